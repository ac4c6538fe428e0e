import time
from dataclasses import dataclass
from datetime import datetime

import pytz

from odoo import api, fields, models
from odoo.tools import SQL

from ..lib import masking
from ..tools.deadline import regency_tz

PAGE_SIZE = 20
# The pager counts at most this many pages past the current one: counting a
# million published SMS on every page view would make the list slower as
# the archive grows.
PAGES_AHEAD = 5
FEED_SIZE = 50
# A search reads at most this many pages, and looks among the newest
# SEARCH_WINDOW published SMS before using the full-text index (see
# _ranked_ids).
MAX_SEARCH_PAGES = 25
SEARCH_WINDOW = 20_000
ARCHIVE_MAX_ESTIMATE = 5_000
STATS_CACHE_SECONDS = 300
# Every public query reads these rows only; the partial indexes of
# helpdesk.ticket (see _sms_publication_init) carry the same predicate.
PUBLISHED = SQL("t.sms_publication_state = 'published' AND t.active")

_stats_cache = {}


@dataclass(frozen=True)
class PublicFilter:
    """What a visitor asked for on the list: all optional."""

    terms: tuple = ()
    unit_id: int | None = None
    category_id: int | None = None
    month: tuple | None = None  # (year, month) in the regency's time zone

    @property
    def active(self):
        return bool(self.terms or self.unit_id or self.category_id or self.month)


class SmsCenterPublication(models.AbstractModel):
    """The public reader of the "SMS Masyarakat" pages and feeds (R12).

    Returns plain values (never records) built from the published fields of
    helpdesk tickets and answers only, so that nothing else of a ticket can
    reach a public page. Queries are SQL on the indexed published rows.
    """

    _name = "sms_center.publication"
    _description = "SMS Center public pages reader"

    # ------------------------------------------------------------------
    # Lookups for the filters
    # ------------------------------------------------------------------

    @api.model
    def _public_units(self):
        """``{team id: name}`` of the units with published questions."""
        return self._names(
            "helpdesk.ticket.team", self._distinct_published("team_id"), sort=True
        )

    @api.model
    def _public_categories(self):
        """``{category id: name}``: the message categories (Pasal 7 huruf a)."""
        # sudo: category names are public.
        categories = self.env["helpdesk.ticket.category"].sudo().search([])
        return {category.id: category.name for category in categories}

    @api.model
    def _distinct_published(self, column):
        """Distinct values of ``column`` (team_id or category_id) among the
        published rows: a skip scan of the column's partial index, a few
        index probes whatever the size of the archive."""
        assert column in ("team_id", "category_id")
        self.env["helpdesk.ticket"].flush_model()
        self.env.cr.execute(
            SQL(
                """WITH RECURSIVE v(value) AS (
                       (SELECT t.%(column)s FROM helpdesk_ticket t
                         WHERE %(published)s AND t.%(column)s IS NOT NULL
                         ORDER BY t.%(column)s LIMIT 1)
                       UNION ALL
                       SELECT (SELECT t.%(column)s FROM helpdesk_ticket t
                                WHERE %(published)s AND t.%(column)s > v.value
                                ORDER BY t.%(column)s LIMIT 1)
                         FROM v WHERE v.value IS NOT NULL)
                   SELECT value FROM v WHERE value IS NOT NULL""",
                column=SQL.identifier(column),
                published=PUBLISHED,
            )
        )
        return [row[0] for row in self.env.cr.fetchall()]

    @api.model
    def _public_months(self):
        """``[(year, month), ...]`` newest first, from the oldest published SMS
        to this month (in the regency's time zone)."""
        self.env["helpdesk.ticket"].flush_model()
        self.env.cr.execute(
            SQL(
                "SELECT min(t.sms_received_at) FROM helpdesk_ticket t WHERE %s",
                PUBLISHED,
            )
        )
        oldest = self.env.cr.fetchone()[0]
        if not oldest:
            return []
        tz = regency_tz(self.env)
        first = pytz.utc.localize(oldest).astimezone(tz)
        now = pytz.utc.localize(fields.Datetime.now()).astimezone(tz)
        months = []
        year, month = now.year, now.month
        while (year, month) >= (first.year, first.month):
            months.append((year, month))
            year, month = (year, month - 1) if month > 1 else (year - 1, 12)
        return months

    @api.model
    def _month_range(self, year, month):
        """UTC naive bounds ``[start, end)`` of a month in the regency."""
        tz = regency_tz(self.env)
        start = tz.localize(datetime(year, month, 1))
        nxt = (year, month + 1) if month < 12 else (year + 1, 1)
        end = tz.localize(datetime(*nxt, 1))
        return (
            start.astimezone(pytz.utc).replace(tzinfo=None),
            end.astimezone(pytz.utc).replace(tzinfo=None),
        )

    # ------------------------------------------------------------------
    # The list
    # ------------------------------------------------------------------

    @api.model
    def _where(self, public_filter, text=True):
        clauses = [PUBLISHED]
        if public_filter.unit_id:
            clauses.append(SQL("t.team_id = %s", public_filter.unit_id))
        if public_filter.category_id:
            clauses.append(SQL("t.category_id = %s", public_filter.category_id))
        if public_filter.month:
            start, end = self._month_range(*public_filter.month)
            clauses.append(
                SQL("t.sms_received_at >= %s AND t.sms_received_at < %s", start, end)
            )
        if text and public_filter.terms:
            clauses.append(self._text_match(public_filter, "t"))
        return SQL(" AND ").join(clauses)

    @api.model
    def _text_match(self, public_filter, alias):
        return SQL(
            "%s @@ to_tsquery('simple', %s)",
            SQL.identifier(alias, "sms_public_tsv"),
            masking.words_tsquery(public_filter.terms),
        )

    @api.model
    def _published_page(self, public_filter, page):
        """``(ids of the page, count, exact)``: published tickets matching,
        newest received first; ``count`` stops PAGES_AHEAD pages past
        ``page`` (``exact`` is False when there are more)."""
        need = (page + PAGES_AHEAD) * PAGE_SIZE + 1
        offset = (page - 1) * PAGE_SIZE
        if public_filter.terms:
            # At most MAX_SEARCH_PAGES pages: the ids fit in memory.
            ranked = self._ranked_ids(public_filter, need)
            ids, count = ranked[offset : offset + PAGE_SIZE], len(ranked)
        else:
            # Deep pages: the index walk only counts, it returns 20 ids.
            self.env["helpdesk.ticket"].flush_model()
            self.env.cr.execute(
                self._ranked_query(public_filter, PAGE_SIZE, offset=offset)
            )
            ids = [row[0] for row in self.env.cr.fetchall()]
            self.env.cr.execute(self._count_query(public_filter, need))
            count = self.env.cr.fetchone()[0]
        exact = count < need
        return ids, count - (0 if exact else 1), exact

    @api.model
    def _count_query(self, public_filter, cap):
        return SQL(
            """SELECT count(*) FROM (
                   SELECT 1 FROM helpdesk_ticket t WHERE %s LIMIT %s) s""",
            self._where(public_filter),
            cap,
        )

    @api.model
    def _ranked_ids(self, public_filter, limit):
        """The first ``limit`` ids matching, in the list's order."""
        self.env["helpdesk.ticket"].flush_model()
        self.env["sms_center.reply"].flush_model()
        cr = self.env.cr
        if not public_filter.terms:
            cr.execute(self._ranked_query(public_filter, limit))
            return [row[0] for row in cr.fetchall()]
        # Few matches expected (rare words, or none): straight to the
        # full-text index, whose cost grows with the matches. The estimate
        # is PostgreSQL's own, from the statistics of the words.
        cr.execute(
            SQL(
                "EXPLAIN (FORMAT JSON) SELECT 1 FROM helpdesk_ticket t WHERE %s",
                self._where(public_filter),
            )
        )
        if cr.fetchone()[0][0]["Plan"]["Plan Rows"] <= ARCHIVE_MAX_ESTIMATE:
            cr.execute(self._archive_query(public_filter, limit))
            return [row[0] for row in cr.fetchall()]
        # Common words: among the newest SEARCH_WINDOW rows first. When they
        # hold enough matches, these are the newest ones, found in a bounded
        # walk of the list's index.
        cr.execute(self._window_query(public_filter, limit))
        ids = [row[0] for row in cr.fetchall()]
        if len(ids) >= limit:
            return ids
        cr.execute(
            SQL(
                """SELECT count(*) FROM (
                       SELECT 1 FROM helpdesk_ticket t WHERE %s LIMIT %s) s""",
                self._where(public_filter, text=False),
                SEARCH_WINDOW + 1,
            )
        )
        if cr.fetchone()[0] <= SEARCH_WINDOW:
            return ids  # the window held every candidate
        # Words rare among the newest SMS after all: all matches through the
        # full-text index, then sorted.
        cr.execute(self._archive_query(public_filter, limit))
        return [row[0] for row in cr.fetchall()]

    @api.model
    def _ranked_query(self, public_filter, limit, offset=0):
        return SQL(
            """SELECT t.id FROM helpdesk_ticket t WHERE %s
                ORDER BY t.sms_received_at DESC, t.id DESC
                LIMIT %s OFFSET %s""",
            self._where(public_filter),
            limit,
            offset,
        )

    @api.model
    def _window_query(self, public_filter, limit):
        return SQL(
            """SELECT w.id FROM (
                   SELECT t.id, t.sms_received_at, t.sms_public_tsv
                     FROM helpdesk_ticket t WHERE %s
                    ORDER BY t.sms_received_at DESC, t.id DESC
                    LIMIT %s) w
                WHERE %s
                ORDER BY w.sms_received_at DESC, w.id DESC
                LIMIT %s""",
            self._where(public_filter, text=False),
            SEARCH_WINDOW,
            self._text_match(public_filter, "w"),
            limit,
        )

    @api.model
    def _archive_query(self, public_filter, limit):
        return SQL(
            """WITH m AS MATERIALIZED (
                   SELECT t.id, t.sms_received_at FROM helpdesk_ticket t WHERE %s)
               SELECT m.id FROM m
                ORDER BY m.sms_received_at DESC, m.id DESC LIMIT %s""",
            self._where(public_filter),
            limit,
        )

    @api.model
    def _published_items(self, ids):
        """Published values of the tickets ``ids``, in that order."""
        if not ids:
            return []
        # sudo: the public reads published tickets; only the published
        # fields below are read and returned.
        tickets = self.env["helpdesk.ticket"].sudo().browse(ids)
        rows = tickets.read(
            [
                "sms_public_question",
                "sms_public_slug",
                "team_id",
                "category_id",
                "sms_received_at",
                "sms_first_answer_at",
                "sms_response_minutes",
                "sms_sender_masked",
                "sms_published_at",
            ],
            load=None,
        )
        units = self._names("helpdesk.ticket.team", {row["team_id"] for row in rows})
        categories = self._names(
            "helpdesk.ticket.category", {row["category_id"] for row in rows}
        )
        # sudo: only the published text and date of the answers are read.
        answers = (
            self.env["sms_center.reply"]
            .sudo()
            .search_read(
                [("ticket_id", "in", ids)],
                ["ticket_id", "public_body", "create_date"],
                order="create_date, id",
                load=None,
            )
        )
        by_ticket = {}
        for answer in answers:
            by_ticket.setdefault(answer["ticket_id"], []).append(
                {"text": answer["public_body"] or "", "date": answer["create_date"]}
            )
        return [
            {
                "id": row["id"],
                "path": self._path(row["id"], row["sms_public_slug"]),
                "slug": row["sms_public_slug"],
                "question": row["sms_public_question"] or "",
                "unit": units.get(row["team_id"], ""),
                "unit_id": row["team_id"] or False,
                "category": categories.get(row["category_id"], ""),
                "category_id": row["category_id"] or False,
                "received_at": row["sms_received_at"],
                "answered_at": row["sms_first_answer_at"],
                "response_minutes": row["sms_response_minutes"],
                "sender": row["sms_sender_masked"] or "",
                "published_at": row["sms_published_at"],
                "answers": by_ticket.get(row["id"], []),
            }
            for row in rows
        ]

    @api.model
    def _names(self, model, ids, sort=False):
        """``{id: name}``; names of units and categories are public."""
        ids = [i for i in ids if i]
        if not ids:
            return {}
        # sudo: unit and category names are public.
        records = self.env[model].sudo().with_context(active_test=False).browse(ids)
        records = records.exists()
        if sort:
            records = records.sorted(lambda r: (r.name or "").lower())
        return {record.id: record.name for record in records}

    @api.model
    def _path(self, ticket_id, slug):
        return (
            f"/sms-masyarakat/{slug}-{ticket_id}"
            if slug
            else (f"/sms-masyarakat/{ticket_id}")
        )

    @api.model
    def _published_one(self, ticket_id):
        """Published values of one ticket, or None (unpublished, unknown)."""
        self.env["helpdesk.ticket"].flush_model()
        self.env.cr.execute(
            SQL(
                "SELECT t.id FROM helpdesk_ticket t WHERE %s AND t.id = %s",
                PUBLISHED,
                ticket_id,
            )
        )
        row = self.env.cr.fetchone()
        items = self._published_items([row[0]]) if row else []
        return items[0] if items else None

    # ------------------------------------------------------------------
    # Feeds and sitemap
    # ------------------------------------------------------------------

    @api.model
    def _feed_ids(self, unit_id=None, limit=FEED_SIZE):
        """The last published tickets, newest publication first."""
        self.env["helpdesk.ticket"].flush_model()
        where = PUBLISHED
        if unit_id:
            where = SQL("%s AND t.team_id = %s", PUBLISHED, unit_id)
        self.env.cr.execute(
            SQL(
                """SELECT t.id FROM helpdesk_ticket t WHERE %s
                    ORDER BY t.sms_published_at DESC, t.id DESC LIMIT %s""",
                where,
                limit,
            )
        )
        return [row[0] for row in self.env.cr.fetchall()]

    @api.model
    def _sitemap_rows(self, batch_size=10000):
        """``(path, last change)`` of every published question, in batches
        (the sitemap of a large archive does not fit in memory at once)."""
        self.env["helpdesk.ticket"].flush_model()
        last_id = 0
        while True:
            self.env.cr.execute(
                SQL(
                    """SELECT t.id, t.sms_public_slug,
                              GREATEST(t.sms_published_at, t.write_date)
                         FROM helpdesk_ticket t WHERE %s AND t.id > %s
                        ORDER BY t.id LIMIT %s""",
                    PUBLISHED,
                    last_id,
                    batch_size,
                )
            )
            rows = self.env.cr.fetchall()
            for ticket_id, slug, changed in rows:
                yield self._path(ticket_id, slug), changed
            if len(rows) < batch_size:
                return
            last_id = rows[-1][0]

    # ------------------------------------------------------------------
    # Accountability panel
    # ------------------------------------------------------------------

    @api.model
    def _month_stats(self):
        """This month's figures per unit, from the stored compliance fields:
        ``[{unit, received, answered, in_time, decided}]`` plus a total
        row. Spam and not substantive SMS are not counted. Cached a few
        minutes: the figures are the same for every visitor."""
        tz = regency_tz(self.env)
        now = fields.Datetime.now()
        local_now = pytz.utc.localize(now).astimezone(tz)
        month = (local_now.year, local_now.month)
        key = (self.env.cr.dbname, month, self.env.lang)
        cached = _stats_cache.get(key)
        if cached and time.monotonic() - cached[0] < STATS_CACHE_SECONDS:
            return cached[1]
        start, end = self._month_range(*month)
        self.env["helpdesk.ticket"].flush_model()
        self.env["sms_center.message"].flush_model(["ticket_id", "moderation_state"])
        self.env.cr.execute(
            SQL(
                """SELECT t.team_id,
                          count(*),
                          count(*) FILTER (WHERE t.sms_answered),
                          count(*) FILTER (WHERE t.sms_compliance = 'in_time'),
                          count(*) FILTER (
                              WHERE t.sms_compliance IN
                                    ('in_time', 'late', 'overdue', 'closed')
                                 OR (t.sms_compliance = 'open'
                                     AND t.sms_deadline <= %(now)s))
                     FROM helpdesk_ticket t
                    WHERE t.sms_keyword_id IS NOT NULL AND t.active
                      AND t.sms_received_at >= %(start)s
                      AND t.sms_received_at < %(end)s
                      AND NOT EXISTS (
                          SELECT 1 FROM sms_center_message m
                           WHERE m.ticket_id = t.id
                             AND m.moderation_state IN ('spam', 'not_substantive'))
                 GROUP BY t.team_id""",
                now=now,
                start=start,
                end=end,
            )
        )
        rows = self.env.cr.fetchall()
        names = self._names("helpdesk.ticket.team", {row[0] for row in rows})
        stats = sorted(
            (
                self._stat_row(names.get(team_id, ""), *figures)
                for team_id, *figures in rows
            ),
            key=lambda row: row["unit"],
        )
        if stats:
            totals = [sum(row[k] for row in stats) for k in self._STAT_KEYS]
            stats.append(self._stat_row(False, *totals))
        _stats_cache[key] = (time.monotonic(), stats)
        return stats

    _STAT_KEYS = ("received", "answered", "in_time", "decided")

    @api.model
    def _stat_row(self, unit, received, answered, in_time, decided):
        return {
            "unit": unit,
            "received": received,
            "answered": answered,
            "in_time": in_time,
            "decided": decided,
            "in_time_percent": round(100 * in_time / decided) if decided else None,
        }
