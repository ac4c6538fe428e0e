#!/usr/bin/env python3
"""The public "SMS Masyarakat" pages with a million published SMS, timed side
by side with Odoo's own /blog listing (R12). Prints figures and query plans;
asserts nothing.

    python3 benchmarks/bench_publication.py                 # 1,000,000 SMS
    python3 benchmarks/bench_publication.py --count 100000  # quicker

* Creates the database ``--db`` (default ``sms_center_bench_publication``)
  when it does not exist: ``sms_center`` with its demo data and Indonesian,
  plus ``website_blog`` for the baseline. website_blog is installed in this
  benchmark database only; sms_center does not depend on it.
* Bulk-inserts with SQL published, answered SMS tickets (with one answer
  each, texts drawn from a vocabulary of complaint words, spread over three
  years and the demo units and categories) until there are ``--count``, and
  blog posts until there are ``--blog-posts``. The data is kept: a second
  run reuses it (drop the database with ``dropdb`` to start over).
* Starts Odoo on a free port (one process, threaded) with the blog's page
  size set to ours (20), and times each page with one keep-alive
  ``requests.Session``: ``--warmup`` requests, then ``--rounds`` timed ones;
  prints the median and 90th percentile and each page's median over the
  /blog listing's median (goal: at most 2).
* Prints ``EXPLAIN ANALYZE`` of the SQL behind each of our pages.

Use ``--addons-path`` when Odoo's standard addons are not next to the
importable ``odoo`` package (the scripts/lib.sh rule is applied otherwise).
"""

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import psycopg2
import requests

REPO = Path(__file__).resolve().parent.parent
PAGE_SIZE = 20
TAG = "PUBBENCH"

# Words of citizens' SMS and officers' answers, most frequent first: the
# texts draw from the head of the list far more often than from its tail,
# as real texts do, so that searches hit common and rare words.
WORDS = """
jalan mohon rusak pak desa kami tolong sudah segera warga bapak terima kasih
di yang dan ini itu tidak belum ada dari untuk ke dengan atas kapan bagaimana
puskesmas sekolah lampu air listrik sampah jembatan banjir longsor pasar
pelayanan antrean bpjs ktp kk akta surat izin bantuan sembako beasiswa guru
dokter bidan obat ambulans posyandu imunisasi vaksin pupuk petani irigasi
sawah harga beras minyak gas elpiji angkot bus terminal parkir trotoar
drainase selokan got banjir genangan pohon tumbang kabel tiang internet
sinyal telepon pdam pipa bocor keruh mati padam gelap macet lubang aspal
retak amblas tanah sertifikat pajak pbb retribusi kecamatan kelurahan rt rw
kepala dinas kantor bupati camat lurah petugas pegawai honorer pensiun gaji
tunjangan pengaduan usulan saran pertanyaan informasi jadwal pendaftaran
ppdb zonasi seragam buku perpustakaan lapangan olahraga taman alun alun
wisata dieng telaga candi serayu mrica banjarnegara wanadadi punggelan
kalibening pagentan batur wanayasa karangkobar madukara sigaluh klampok
purwareja bawang rakit mandiraja purwanegara susukan pandanarum pejawaran
tindak lanjut diperbaiki diperiksa dijadwalkan ditinjau dikirim disalurkan
dianggarkan diusulkan koordinasi survei lokasi minggu depan bulan tahun
anggaran perbaikan pembangunan pengaspalan penerangan pembersihan
pengangkutan pemeriksaan pelayanan sabar maaf laporan terima kasih
""".split()


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="sms_center_bench_publication")
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--blog-posts", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--addons-path", default=None)
    parser.add_argument("--batch", type=int, default=100_000)
    return parser.parse_args()


def default_addons_path():
    import odoo

    odoo_dir = Path(odoo.__file__).resolve().parent
    standard = odoo_dir.parent / "addons"
    if not (standard / "web" / "__manifest__.py").exists():
        standard = odoo_dir / "addons"
    return f"{standard},{REPO}"


def odoo_command(args, *extra):
    return [
        sys.executable,
        "-m",
        "odoo",
        "-d",
        args.db,
        f"--addons-path={args.addons_path}",
        f"--db-filter=^{args.db}$",
        "--data-dir",
        str(REPO / ".dev" / "bench-data"),
        *extra,
    ]


def database_exists(name):
    with psycopg2.connect(dbname="postgres") as cnx, cnx.cursor() as cr:
        cr.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        return bool(cr.fetchone())


def create_database(args):
    print(f"creating {args.db}: sms_center (demo data, id_ID) and website_blog …")
    started = time.perf_counter()
    subprocess.run(
        odoo_command(
            args,
            "-i",
            "sms_center,website_blog",
            "--load-language=id_ID",
            "--stop-after-init",
            "--no-http",
            "--max-cron-threads=0",
            "--log-level=warn",
        ),
        check=True,
        env=dict(os.environ, TZ="UTC"),
    )
    print(f"  created in {time.perf_counter() - started:.0f}s")


# Distinct texts, reused round-robin: a million rows are inserted in
# minutes, and word frequencies stay those of the vocabulary.
TEXTS = """
CREATE TEMP TABLE bench_text AS
SELECT n,
       (SELECT string_agg(w.words[1 + floor(array_length(w.words, 1)
                   * power(((n * 2654435761 + i * 40503) %% 1000003)
                           / 1000003.0, 2.5))::int], ' ')
          FROM generate_series(1, 6 + n %% 14) AS i) AS question,
       (SELECT string_agg(w.words[1 + floor(array_length(w.words, 1)
                   * power((((n + 7777) * 2654435761 + i * 40503) %% 1000003)
                           / 1000003.0, 2.5))::int], ' ')
          FROM generate_series(1, 5 + n %% 9) AS i) AS answer
  FROM generate_series(0, %(texts)s - 1) AS n,
       (SELECT %(words)s::text[] AS words) AS w;
CREATE UNIQUE INDEX ON bench_text (n);
"""
DISTINCT_TEXTS = 50_021


def populate(cr, args):
    """Insert published SMS tickets and answers until there are --count."""
    cr.execute("SELECT count(*) FROM helpdesk_ticket WHERE number LIKE %s", [f"{TAG}%"])
    existing = cr.fetchone()[0]
    if existing >= args.count:
        print(f"reusing {existing} published benchmark SMS")
        return
    cr.execute("DROP TABLE IF EXISTS bench_text")
    cr.execute(TEXTS, {"words": WORDS, "texts": DISTINCT_TEXTS})
    cr.execute(
        """SELECT k.id, k.team_id FROM sms_center_keyword k
            WHERE k.team_id IS NOT NULL ORDER BY k.id"""
    )
    keywords = cr.fetchall()
    cr.execute("SELECT id FROM helpdesk_ticket_category ORDER BY id")
    categories = [row[0] for row in cr.fetchall()] or [None]
    cr.execute(
        """SELECT res_id FROM ir_model_data WHERE module = 'sms_center'
              AND name IN ('helpdesk_ticket_stage_answered',
                           'helpdesk_ticket_channel_sms')
            ORDER BY name DESC"""
    )
    stage_id, channel_id = (row[0] for row in cr.fetchall())
    cr.execute("SELECT id FROM res_company ORDER BY id LIMIT 1")
    company_id = cr.fetchone()[0]
    print(f"inserting {args.count - existing} published SMS with their answers …")
    started = time.perf_counter()
    for start in range(existing + 1, args.count + 1, args.batch):
        end = min(start + args.batch - 1, args.count)
        cr.execute(
            """
            WITH kw AS (
                SELECT * FROM unnest(%(kw)s::int[], %(teams)s::int[])
                    WITH ORDINALITY AS k(id, team_id, n)
            ), src AS (
                SELECT g,
                       kw.id AS keyword_id, kw.team_id,
                       (%(categories)s::int[])[1 + g %% %(ncat)s] AS category_id,
                       -- three years, newest first; a few seconds apart
                       now() - ((%(count)s - g) * (94608000.0 / %(count)s)
                                || ' seconds')::interval AS received_at,
                       (5 + (g * 7919) %% 400) AS minutes,
                       t.question, t.answer
                  FROM generate_series(%(start)s::bigint, %(end)s) AS g
                  JOIN kw ON kw.n = 1 + g %% %(nkw)s
                  JOIN bench_text t ON t.n = g %% %(texts)s
            ), ins AS (
                INSERT INTO helpdesk_ticket (
                    number, name, description, team_id, category_id, stage_id,
                    channel_id, company_id, active, priority, kanban_state,
                    sms_keyword_id, sms_received_at, sms_answered,
                    sms_first_answer_at, sms_deadline, sms_response_minutes,
                    sms_answered_in_time, sms_compliance, sms_awaiting_answer,
                    sms_publication_excluded, sms_sender_masked,
                    sms_publication_state, sms_published_at,
                    sms_public_question, sms_public_slug, sms_public_document,
                    create_date, write_date, create_uid, write_uid)
                SELECT %(tag)s || g, left(question, 60), question, team_id,
                       category_id, %(stage)s, %(channel)s, %(company)s, true,
                       '1', 'normal', keyword_id, received_at, true,
                       received_at + (minutes || ' minutes')::interval,
                       received_at + interval '3 hours', minutes, minutes <= 180,
                       CASE WHEN minutes <= 180 THEN 'in_time' ELSE 'late' END,
                       false, false,
                       '0812****' || lpad((g %% 1000)::text, 3, '0'),
                       'published',
                       received_at + (minutes || ' minutes')::interval,
                       question,
                       left(regexp_replace(question, '[^a-z0-9]+', '-', 'g'), 60),
                       question || E'\\n' || answer,
                       received_at, received_at, 1, 1
                  FROM src
                RETURNING id, number, sms_keyword_id, sms_first_answer_at
            )
            INSERT INTO sms_center_reply (
                ticket_id, keyword_id, author_id, body, public_body, encoding,
                parts, send_count, sms_state, create_date, write_date,
                create_uid, write_uid)
            SELECT ins.id, ins.sms_keyword_id, 2, src.answer, src.answer, 'gsm7',
                   1, 1, 'sent', ins.sms_first_answer_at, ins.sms_first_answer_at,
                   1, 1
              FROM ins JOIN src ON ins.number = %(tag)s || src.g
            """,
            {
                "kw": [k[0] for k in keywords],
                "teams": [k[1] for k in keywords],
                "nkw": len(keywords),
                "categories": categories,
                "ncat": len(categories),
                "count": args.count,
                "texts": DISTINCT_TEXTS,
                "start": start,
                "end": end,
                "tag": TAG,
                "stage": stage_id,
                "channel": channel_id,
                "company": company_id,
            },
        )
        cr.connection.commit()
        print(f"  {end} rows, {time.perf_counter() - started:.0f}s")


def populate_blog(cr, args):
    cr.execute("SELECT count(*) FROM blog_post")
    existing = cr.fetchone()[0]
    if existing >= args.blog_posts:
        print(f"reusing {existing} blog posts")
        return
    cr.execute("SELECT id FROM blog_post WHERE is_published ORDER BY id LIMIT 1")
    model_id = cr.fetchone()[0]
    cr.execute(
        """SELECT column_name FROM information_schema.columns
            WHERE table_name = 'blog_post'
              AND column_name NOT IN ('id', 'name', 'post_date', 'published_date',
                                      'create_date', 'write_date')
              AND is_generated = 'NEVER'"""
    )
    columns = [row[0] for row in cr.fetchall()]
    column_list = ", ".join(columns)
    cr.execute(
        f"""INSERT INTO blog_post ({column_list}, name, post_date, published_date,
                                   create_date, write_date)
            SELECT {column_list}, jsonb_build_object('en_US', 'Post ' || g),
                   now() - (g || ' minutes')::interval,
                   now() - (g || ' minutes')::interval, now(), now()
              FROM blog_post, generate_series(1, %s) AS g
             WHERE blog_post.id = %s""",
        [args.blog_posts - existing, model_id],
    )
    cr.connection.commit()
    print(f"inserted {args.blog_posts - existing} blog posts")


# The blog's page size set to ours before Odoo loads its controllers.
SERVER = """
import sys
import odoo
from odoo.tools import config
config.parse_config(sys.argv[1:])
odoo.modules.module.initialize_sys_path()
from odoo.addons.website_blog.controllers.main import WebsiteBlog
WebsiteBlog._blog_post_per_page = {page_size}
from odoo.cli.server import main
main(sys.argv[1:])
"""


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(args, port):
    command = odoo_command(
        args,
        f"--http-port={port}",
        "--http-interface=127.0.0.1",
        "--workers=0",
        "--max-cron-threads=0",
        "--log-level=warn",
    )
    command[1:3] = ["-c", SERVER.format(page_size=PAGE_SIZE)]
    server = subprocess.Popen(command, env=dict(os.environ, TZ="UTC"))
    url = f"http://127.0.0.1:{port}"
    for _ in range(120):
        try:
            requests.get(f"{url}/web/login", timeout=60)
            return server, url
        except requests.RequestException:
            time.sleep(1)
    server.terminate()
    raise SystemExit("Odoo did not start")


def time_pages(url, pages, rounds, warmup):
    session = requests.Session()
    results = []
    for label, path in pages:
        response = session.get(url + path, timeout=120)
        if response.status_code != 200:
            print(f"  {label}: HTTP {response.status_code} for {path}")
            results.append((label, path, None, None))
            continue
        path = response.url[len(url) :]  # after redirects (/blog -> /blog/x-1)
        for _ in range(warmup):
            session.get(url + path, timeout=120)
        timings = []
        for _ in range(rounds):
            started = time.perf_counter()
            response = session.get(url + path, timeout=120)
            response.content  # noqa: B018 - read the whole body
            timings.append((time.perf_counter() - started) * 1000)
        timings.sort()
        results.append(
            (
                label,
                path,
                statistics.median(timings),
                timings[max(0, int(len(timings) * 0.9) - 1)],
            )
        )
    return results


def main():
    args = parse_args()
    args.addons_path = args.addons_path or default_addons_path()
    if not database_exists(args.db):
        create_database(args)
    cnx = psycopg2.connect(dbname=args.db)
    with cnx.cursor() as cr:
        populate(cr, args)
        populate_blog(cr, args)
    cnx.commit()
    cnx.close()
    cnx = psycopg2.connect(dbname=args.db)
    cnx.autocommit = True
    with cnx.cursor() as cr:
        cr.execute("VACUUM ANALYZE helpdesk_ticket, sms_center_reply, blog_post")
        cr.execute(
            """SELECT count(*) FROM helpdesk_ticket
                WHERE sms_publication_state = 'published' AND active"""
        )
        published = cr.fetchone()[0]
        cr.execute("SELECT count(*) FROM blog_post WHERE is_published")
        posts = cr.fetchone()[0]
        cr.execute(
            """SELECT team_id, count(*) FROM helpdesk_ticket
                WHERE sms_publication_state = 'published' AND active
                GROUP BY team_id ORDER BY 2 DESC LIMIT 1"""
        )
        unit_id, unit_count = cr.fetchone()
        words = {}
        for word in ("puskesmas", "irigasi", "kalibening"):
            cr.execute(
                """SELECT count(*) FROM helpdesk_ticket
                    WHERE sms_publication_state = 'published' AND active
                      AND sms_public_tsv @@ to_tsquery('simple', %s)""",
                [f"'{word}'"],
            )
            words[word] = cr.fetchone()[0]
    cnx.close()
    print(
        f"\n{published} published SMS; {posts} published blog posts; largest unit "
        f"{unit_id} with {unit_count} SMS; matches: "
        + ", ".join(f"{w} {n}" for w, n in words.items())
    )
    pages = [
        ("/blog (baseline, page 1)", "/blog"),
        ("/blog page 500", "/blog/page/500"),
        ("/blog search", "/blog?search=Post+12"),
        ("ours: page 1", "/sms-masyarakat"),
        ("ours: page 500", "/sms-masyarakat/page/500"),
        ("ours: search (common word)", "/sms-masyarakat?q=puskesmas"),
        ("ours: search (two words)", "/sms-masyarakat?q=jalan+rusak"),
        ("ours: search (rare pair)", "/sms-masyarakat?q=kalibening+irigasi"),
        ("ours: search (no match)", "/sms-masyarakat?q=zzzz"),
        ("ours: search page 25", "/sms-masyarakat/page/25?q=puskesmas"),
        ("ours: unit filter", f"/sms-masyarakat?unit={unit_id}"),
        ("ours: unit filter page 500", f"/sms-masyarakat/page/500?unit={unit_id}"),
        ("ours: RSS feed", "/sms-masyarakat/rss.xml"),
        ("ours: JSON feed", "/sms-masyarakat/feed.json"),
    ]
    port = free_port()
    server, url = start_server(args, port)
    try:
        # The blog's listing redirects to its only blog: time the page itself.
        blog_page = requests.get(url + "/blog", timeout=120).url[len(url) :]
        pages[1] = ("/blog page 500", blog_page + "/page/500")
        results = time_pages(url, pages, args.rounds, args.warmup)
    finally:
        server.terminate()
        server.wait(timeout=60)
    baseline = results[0][2]
    print(
        f"\nmedian of {args.rounds} requests after {args.warmup} warm-up ones, "
        f"one keep-alive session, page size {PAGE_SIZE} on both:"
    )
    print(f"{'page':34} {'median ms':>10} {'p90 ms':>8} {'x /blog':>8}  path")
    for label, path, median, p90 in results:
        if median is None:
            print(f"{label:34} {'failed':>10}")
            continue
        ratio = median / baseline if baseline else 0
        print(f"{label:34} {median:10.1f} {p90:8.1f} {ratio:8.2f}  {path}")
    explain(args, unit_id)


def explain(args, unit_id):
    import odoo
    from odoo import SUPERUSER_ID, api
    from odoo.tools import SQL, config

    config.parse_config(["-d", args.db, f"--addons-path={args.addons_path}"])
    odoo.modules.module.initialize_sys_path()
    from odoo.addons.sms_center.lib import masking
    from odoo.addons.sms_center.models.sms_center_publication import PublicFilter

    registry = odoo.modules.registry.Registry(args.db)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        Reader = env["sms_center.publication"]
        search = PublicFilter(terms=tuple(masking.search_terms("puskesmas")))
        rare = PublicFilter(terms=tuple(masking.search_terms("kalibening irigasi")))
        plans = [
            ("page 1", Reader._ranked_query(PublicFilter(), PAGE_SIZE)),
            (
                "pager of page 1: count up to 5 pages ahead",
                Reader._count_query(PublicFilter(), 6 * PAGE_SIZE + 1),
            ),
            (
                "page 500",
                Reader._ranked_query(PublicFilter(), PAGE_SIZE, offset=499 * PAGE_SIZE),
            ),
            (
                "pager of page 500",
                Reader._count_query(PublicFilter(), 505 * PAGE_SIZE + 1),
            ),
            (
                "search 'puskesmas': newest SMS first",
                Reader._window_query(search, 6 * PAGE_SIZE + 1),
            ),
            (
                "search 'kalibening irigasi': newest SMS first",
                Reader._window_query(rare, 6 * PAGE_SIZE + 1),
            ),
            (
                "search 'kalibening irigasi': full-text index",
                Reader._archive_query(rare, 6 * PAGE_SIZE + 1),
            ),
            (
                "search 'zzzz' (no match): full-text index",
                Reader._archive_query(PublicFilter(terms=("zzzz",)), 6 * PAGE_SIZE + 1),
            ),
            (
                f"unit {unit_id}, page 500",
                Reader._ranked_query(
                    PublicFilter(unit_id=unit_id), PAGE_SIZE, offset=499 * PAGE_SIZE
                ),
            ),
        ]
        for label, query in plans:
            cr.execute(SQL("EXPLAIN (ANALYZE, BUFFERS OFF, TIMING ON) %s", query))
            print(f"\nplan: {label}")
            print("\n".join("    " + row[0] for row in cr.fetchall()))
        for label, method in (
            ("units (skip scan)", Reader._public_units),
            ("months", Reader._public_months),
            ("accountability panel (uncached)", Reader._month_stats),
        ):
            started = time.perf_counter()
            method()
            print(f"\n{label}: {(time.perf_counter() - started) * 1000:.1f} ms")
        cr.rollback()


if __name__ == "__main__":
    main()
