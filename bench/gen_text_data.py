#!/usr/bin/python3
"""Mixed-language text for the descriptor benchmark: one text value per line
(prompts and completions in English, German, Russian, Japanese and Arabic,
JSON output, text with e-mail addresses, phone and card numbers, URLs and IP
addresses, and looping output), about SIZE_MB megabytes, seeded.
usage: /usr/bin/python3 bench/gen_text_data.py OUT.txt [SIZE_MB]"""
import json
import random
import sys

rng = random.Random(7)
words = {
    "en": "the model answer question data please explain how why what is a of to and in for".split(),
    "de": "die Größe über Straße schön Mädchen Übung und der das ist nicht für mit".split(),
    "ru": "привет мир модель ответ данные пожалуйста объясни как почему что это и в на".split(),
    "ja": "これは 日本語 の 文章 です モデル 回答 質問 データ 説明 して ください".split(),
    "ar": "مرحبا بالعالم النموذج الإجابة السؤال البيانات من فضلك اشرح كيف لماذا".split(),
}
extras = ["contact me at jane.doe@example.com", "call +1 (555) 123-4567", "card 4111 1111 1111 1111",
          "see https://example.org/docs?id=42", "server 10.0.0.12 is down", "I'm sorry, I can't help."]


def line():
    kind = rng.random()
    if kind < 0.1:
        return json.dumps({"answer": " ".join(rng.choices(words["en"], k=8)), "score": rng.random()})
    if kind < 0.15:
        return " ".join(["I will help you with that."] * rng.randint(5, 30))
    lang = rng.choice(list(words))
    text = " ".join(rng.choices(words[lang], k=rng.randint(5, 120)))
    if rng.random() < 0.3:
        text += " " + rng.choice(extras)
    return text


size = float(sys.argv[2]) if len(sys.argv) > 2 else 100
with open(sys.argv[1], "w", encoding="utf-8") as f:
    total = 0
    while total < size * 1e6:
        s = line() + "\n"
        total += len(s.encode())
        f.write(s)
