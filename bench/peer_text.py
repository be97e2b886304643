#!/usr/bin/python3
"""The text-descriptor peer: the same descriptors (modelwatch/text.h) written
the way a Python user would, with string methods and `re`, over every line of
FILE; prints MB/s and the same checksum as bench_text.
usage: /usr/bin/python3 bench/peer_text.py FILE"""
import json
import re
import sys
import time

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
URL = re.compile(r"https?://\S+|www\.\S+")
IP = re.compile(r"(?<![\d.])(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?!\d)(?!\.\d)")
CARD = re.compile(r"(?<!\d)\d(?:[ -]?\d){12,18}(?!\d)")
PHONE = re.compile(r"(?<![\w.])\+?\d(?:[ .()-]{0,2}\d){9,14}(?!\d)")
REFUSALS = ["i'm sorry", "i am sorry", "i apologize", "i cannot", "i can't", "i can not",
            "as an ai", "i'm not able to", "i am not able to", "i am unable to", "i'm unable to",
            "i won't be able to"]
SCRIPTS = [(0x41, 0x5A, "latin"), (0x61, 0x7A, "latin"), (0xC0, 0x24F, "latin"),
           (0x370, 0x3FF, "greek"), (0x400, 0x52F, "cyrillic"), (0x590, 0x5FF, "hebrew"),
           (0x600, 0x6FF, "arabic"), (0x900, 0x97F, "devanagari"), (0xE00, 0xE7F, "thai"),
           (0xAC00, 0xD7AF, "hangul"), (0x3040, 0x30FF, "cjk"), (0x4E00, 0x9FFF, "cjk")]


def luhn(digits):
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def describe(t):
    b = t.encode("utf-8", "surrogateescape")
    words = t.split()
    counts = {}
    for ch in t:
        o = ord(ch)
        for lo, hi, name in SCRIPTS:
            if lo <= o <= hi:
                counts[name] = counts.get(name, 0) + 1
                break
    script = max(counts, key=counts.get) if counts else "none"
    non_ascii = sum(1 for ch in t if ord(ch) > 127) / len(t) if t else 0.0
    emails = len(EMAIL.findall(t))
    urls = len(URL.findall(t))
    ips = sum(1 for m in IP.finditer(t) if all(int(g) <= 255 for g in m.groups()))
    cards = sum(1 for m in CARD.finditer(t) if luhn(re.sub(r"\D", "", m.group())))
    phones = len(PHONE.findall(t))
    lw = [w.lower() for w in words]
    tri = list(zip(lw, lw[1:], lw[2:]))
    repetition = (len(tri) - len(set(tri))) / len(tri) if tri else 0.0
    low = t.lower().replace("\u2019", "'")
    refusal = any(p in low for p in REFUSALS)
    s = t.strip()
    json_valid = False
    if s[:1] in ("{", "["):
        try:
            json.loads(s)
            json_valid = True
        except ValueError:
            pass
    return (len(t), len(b), len(words), not words, non_ascii, script, emails, urls, ips, cards,
            phones, repetition, refusal, json_valid)


data = open(sys.argv[1], "rb").read()
lines = data.decode("utf-8", "surrogateescape").split("\n")
if lines and lines[-1] == "":
    lines.pop()
t0 = time.perf_counter()
n_words = n_emails = n_ref = n_json = 0
for line in lines:
    r = describe(line)
    n_words += r[2]
    n_emails += r[6]
    n_ref += r[12]
    n_json += r[13]
dt = time.perf_counter() - t0
print("%.1f MB/s, %d texts, %d words, %d emails, %d refusals, %d json" %
      (len(data) / 1e6 / dt, len(lines), n_words, n_emails, n_ref, n_json))
