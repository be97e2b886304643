-- wrk script: POST the same NDJSON batch (file in MW_BODY) to /api/v1/records.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-ndjson"
local f = assert(io.open(os.getenv("MW_BODY"), "rb"))
wrk.body = f:read("*a")
f:close()
