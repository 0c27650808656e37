#!/usr/bin/python3
"""Writes a CSV of N subscribers (email, name, two attributes) to stdout.

Deterministic (seeded), so runs compare.  Addresses are unique; about one
name in 20 needs quoting (a comma), as real exports do.
"""
import random
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000000
rnd = random.Random(42)
first = ["Ann", "Bob", "Carol", "Dave", "Eve", "Frank", "Grace", "Heidi",
         "Ivan", "Judy", "Mallory", "Olivia", "Peggy", "Rupert", "Sybil",
         "Trent", "Victor", "Walter", "Zoë", "Ängel"]
last = ["Smith", "Jones", "Brown", "Taylor", "Wilson", "Davies", "Evans",
        "Thomas", "Johnson", "Roberts", "Nilsen", "Øberg", "Müller"]
cities = ["Oslo", "Bergen", "London", "Paris", "Berlin", "Rome", "Madrid",
          "Tromsø", "Zürich", "Kraków"]
plans = ["free", "pro", "team"]
domains = ["example.org", "example.com", "example.net", "mail.example.org"]
out = sys.stdout
out.write("email,name,city,plan\n")
buf = []
for i in range(n):
    f = rnd.choice(first)
    l = rnd.choice(last)
    name = f"{l}, {f}" if i % 20 == 0 else f"{f} {l}"
    if "," in name:
        name = '"' + name + '"'
    email = f"{f.lower()}.{l.lower()}.{i}@{rnd.choice(domains)}"
    buf.append(f"{email},{name},{rnd.choice(cities)},{rnd.choice(plans)}\n")
    if len(buf) == 10000:
        out.write("".join(buf))
        buf = []
out.write("".join(buf))
