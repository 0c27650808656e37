#!/usr/bin/python3
"""Writes a synthetic but realistic feed corpus: N feeds (default 200), about
100 KB each, a third each RSS 2.0, Atom 1.0 and RSS 1.0, with HTML content
(paragraphs, links, images, lists, quotes, entities), dates in the formats
feeds use, and a few Latin-1 feeds.  Deterministic (fixed seed).

    gen_corpus.py OUTDIR [N]
"""
import os
import random
import sys
from email.utils import formatdate
from xml.sax.saxutils import escape

rnd = random.Random(4)
WORDS = ("the a of to and in is it that for on with as was at by from this "
         "feed news digest herald letter report update market river city "
         "council weather school garden music science library station caf\u00e9 "
         "na\u00efve r\u00e9sum\u00e9 \u201cquoted\u201d \u2014 dash").split()


def sentence(n=12):
    return " ".join(rnd.choice(WORDS) for _ in range(n)).capitalize() + "."


def html_body(paras):
    out = []
    for i in range(paras):
        kind = rnd.random()
        if kind < 0.6:
            out.append('<p>%s <a href="/posts/%d?ref=feed&amp;x=1">%s</a> %s <em>%s</em> &amp; %s</p>' % (
                sentence(), rnd.randrange(10**6), sentence(3), sentence(), sentence(2), sentence(8)))
        elif kind < 0.75:
            out.append('<ul>%s</ul>' % "".join("<li>%s</li>" % sentence(6) for _ in range(4)))
        elif kind < 0.85:
            out.append('<figure><img src="https://cdn.example/i/%d.jpg" alt="%s" width="600" height="400">'
                       '<figcaption>%s</figcaption></figure>' % (rnd.randrange(10**6), sentence(3), sentence(5)))
        elif kind < 0.93:
            out.append('<blockquote><p>%s</p></blockquote>' % sentence(20))
        else:
            out.append('<pre><code>if (a &lt; b) { return a; }</code></pre>')
    if rnd.random() < 0.1:
        out.append('<script>track();</script><div style="x" onclick="y()">%s</div>' % sentence())
    return "\n".join(out)


def date(i):
    t = 1.7e9 + rnd.randrange(10**7)
    return t


def rss(n, size):
    items, body = [], 0
    i = 0
    while body < size:
        content = html_body(rnd.randrange(3, 9))
        body += len(content) * 2
        items.append("""<item>
<title>%s</title>
<link>https://site%d.example/posts/%d</link>
<guid isPermaLink="false">site%d-%d</guid>
<pubDate>%s</pubDate>
<dc:creator>%s</dc:creator>
<description>%s</description>
<content:encoded><![CDATA[%s]]></content:encoded>
</item>""" % (escape(sentence(6)), n, i, n, i, formatdate(date(i)), escape(sentence(2)),
              escape(content[:400]), content))
        i += 1
    return """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel><title>Site %d</title><link>https://site%d.example/</link><description>%s</description>
%s
</channel></rss>
""" % (n, n, escape(sentence()), "\n".join(items))


def atom(n, size):
    entries, body, i = [], 0, 0
    import time
    while body < size:
        content = html_body(rnd.randrange(3, 9))
        body += len(content) * 2
        ts = time.strftime("%Y-%m-%dT%H:%M:%S+01:00", time.gmtime(date(i)))
        entries.append("""<entry>
<title type="html">%s</title>
<link rel="alternate" type="text/html" href="posts/%d"/>
<id>tag:site%d.example,2026:%d</id>
<published>%s</published><updated>%s</updated>
<author><name>%s</name></author>
<summary type="html">%s</summary>
<content type="html">%s</content>
</entry>""" % (escape(sentence(6)), i, n, i, ts, ts, escape(sentence(2)),
               escape(content[:400]), escape(content)))
        i += 1
    return """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://site%d.example/blog/">
<title>Site %d</title><link href="./"/><id>urn:site%d</id><updated>2026-11-24T07:00:00Z</updated>
%s
</feed>
""" % (n, n, n, "\n".join(entries))


def rdf(n, size):
    items, body, i = [], 0, 0
    import time
    while body < size:
        content = html_body(rnd.randrange(3, 9))
        body += len(content) * 2
        ts = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(date(i)))
        items.append("""<item rdf:about="https://site%d.example/%d">
<title>%s</title><link>https://site%d.example/%d</link>
<dc:date>%s</dc:date><dc:creator>%s</dc:creator>
<description>%s</description>
<content:encoded><![CDATA[%s]]></content:encoded>
</item>""" % (n, i, escape(sentence(6)), n, i, ts, escape(sentence(2)), escape(content[:400]), content))
        i += 1
    return """<?xml version="1.0" encoding="utf-8"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
 xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:content="http://purl.org/rss/1.0/modules/content/">
<channel rdf:about="https://site%d.example/"><title>Site %d</title><link>https://site%d.example/</link><description>d</description></channel>
%s
</rdf:RDF>
""" % (n, n, n, "\n".join(items))


def main():
    out = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    os.makedirs(out, exist_ok=True)
    total = 0
    for n in range(count):
        size = rnd.randrange(60_000, 140_000)
        doc = (rss, atom, rdf)[n % 3](n, size)
        if n % 20 == 7:  # a Latin-1 feed now and then
            doc = doc.replace('encoding="utf-8"', 'encoding="iso-8859-1"', 1)
            data = doc.encode("latin-1", "xmlcharrefreplace")
        else:
            data = doc.encode("utf-8")
        with open(os.path.join(out, "feed%03d.xml" % n), "wb") as f:
            f.write(data)
        total += len(data)
    print("corpus: %d feeds, %.1f MB in %s" % (count, total / 1e6, out))


if __name__ == "__main__":
    main()
