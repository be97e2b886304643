/*
 * Golden-prompt probes of a deployed LLM: configured probe sets (prompts with
 * an expectation each: exact, contains, regex, json) sent on a schedule to an
 * OpenAI-compatible /v1/chat/completions endpoint, streaming or not. Each run
 * becomes metrics (pass ratio, latency, time to first token, tokens, failures
 * by reason), a stored result in SQLite and the API views
 * GET /api/v1/probes, GET /api/v1/probes/{set}/runs, POST
 * /api/v1/probes/{set}/run. README "Golden-prompt probes" has the contract.
 *
 * Threads: one thread per probe set, started by mw_probes_start; every other
 * function may be called from any thread. A probe never blocks ingestion
 * (its own threads and store connection) nor shutdown (mw_probes_stop aborts
 * a request in flight within about a second).
 */
#ifndef MW_SERVER_PROBES_H
#define MW_SERVER_PROBES_H

#include "modelwatch/core.h"
#include "server/expo.h"
#include "server/http.h"

#include <jansson.h>

typedef struct mw_probes mw_probes;

/* Checks a `probes:` section (a list of probe sets, as JSON from the YAML);
 * errors name the file, the set and the key, e.g.
 * "probes[0] (smoke).prompts[2] (capital).expect.type: ...". Does not read
 * the API key variables (that happens at start). */
mw_status mw_probes_check(const json_t *section, const char *file, mw_error *err);

/* Starts the probe sets of section (borrowed; NULL or [] for none: the handle
 * then only writes the metric families). db is the daemon's database. An API
 * key variable that is not set is an error naming the set. */
mw_status mw_probes_start(const json_t *section, const char *db, mw_probes **out, mw_error *err);
/* Stops every set (a request in flight is aborted and its run dropped) and
 * frees the handle. NULL is a no-op. */
void mw_probes_stop(mw_probes *p);

/* The probe families of /metrics (headers only when p is NULL or has no sets). */
mw_status mw_probes_write_metrics(mw_probes *p, mw_expo *e);

/* /api/v1/probes and /api/v1/probes/{set}/... (p NULL: answered as no sets). */
void mw_probes_route(mw_probes *p, const mw_http_request *req, mw_http_response *resp);

#endif
