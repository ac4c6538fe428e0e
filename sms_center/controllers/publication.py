"""Public "SMS Masyarakat" pages and feeds: answered SMS (R12, Pasal 9
huruf b, 12 ayat (9)).

Everything shown comes from ``sms_center.publication``, which returns plain
values of published tickets only; no record reaches a template. The pages
need no JavaScript: search and filters are a GET form, paging is links.
"""

import functools
import json
import re
from datetime import UTC, date
from email.utils import format_datetime as rfc822_datetime
from textwrap import shorten

import pytz
from babel.dates import format_datetime, format_skeleton
from lxml import etree
from werkzeug.exceptions import NotFound

from odoo import fields, http
from odoo.http import request
from odoo.tools.misc import babel_locale_parse

from odoo.addons.portal.controllers.portal import pager as portal_pager

from ..lib import masking
from ..models.sms_center_publication import (
    MAX_SEARCH_PAGES,
    PAGE_SIZE,
    PublicFilter,
)
from ..tools.deadline import DEFAULT_DEADLINE_HOURS, regency_tz

BASE = "/sms-masyarakat"
MAX_QUERY_SHOWN = 200
MAX_PAGE = 1_000_000
MAX_ID = 2**31 - 1
LIST_EXCERPT = 600
_MONTH = re.compile(r"(\d{4})-(\d{2})")
_ID = re.compile(r"\d{1,9}")
ATOM_NS = "http://www.w3.org/2005/Atom"


@functools.cache
def _date_patterns(lang_code):
    """``(locale, day pattern, time pattern)`` of a language: babel's skeleton
    matching is resolved once, not for every date of every page."""
    locale = babel_locale_parse(lang_code or None)
    return locale, locale.datetime_skeletons["yMMMd"], locale.datetime_skeletons["Hm"]


def sitemap_questions(env, rule, qs):
    """Every published question page, for the website's sitemap."""
    if qs:
        # The link dialog's search: the list page is enough there.
        return
    for path, changed in env["sms_center.publication"]._sitemap_rows():
        loc = {"loc": path}
        if changed:
            loc["lastmod"] = changed.date()
        yield loc


class PublicPageSeo:
    """Title, description and social sharing tags of a public page, in the
    shape ``website.layout`` reads from its ``seo_object`` (instead of the
    defaults it derives from the page's template)."""

    _META_FIELDS = (
        "website_meta_title",
        "website_meta_description",
        "website_meta_keywords",
    )

    def __init__(self, title, description, url, og_type="website"):
        website = request.website
        self.website_meta_title = f"{title} | {website.name}"
        self.website_meta_description = description
        self.website_meta_keywords = False
        image = website.get_base_url() + website.image_url(website, "logo")
        self._meta = {
            "opengraph_meta": {
                "og:type": og_type,
                "og:title": title,
                "og:description": description,
                "og:site_name": website.name,
                "og:url": url,
                "og:image": image,
            },
            "twitter_meta": {
                "twitter:card": "summary",
                "twitter:title": title,
                "twitter:description": description,
                "twitter:image": image,
            },
            "meta_description": description,
        }

    def __contains__(self, name):
        return name in self._META_FIELDS

    def __repr__(self):
        return "sms_center.publication()"

    def get_website_meta(self):
        return self._meta


class SmsMasyarakat(http.Controller):
    # ------------------------------------------------------------------
    # Pages
    # ------------------------------------------------------------------

    @http.route(
        [BASE, f"{BASE}/page/<int:page>"],
        type="http",
        auth="public",
        website=True,
        sitemap=True,
    )
    def sms_masyarakat(
        self, page=1, q=None, unit=None, category=None, month=None, **_tracking
    ):
        """Published questions, newest received first, 20 a page. Other query
        parameters (``utm_source``, ``fbclid`` of shared links) are ignored."""
        if not 1 <= page <= MAX_PAGE:
            raise NotFound()
        Reader = request.env["sms_center.publication"]
        units = Reader._public_units()
        categories = Reader._public_categories()
        months = Reader._public_months()
        query, public_filter = self._parse_filter(q, unit, category, month, units)
        if public_filter.category_id and public_filter.category_id not in categories:
            raise NotFound()
        if public_filter.terms and page > MAX_SEARCH_PAGES:
            raise NotFound()
        ids, count, exact = Reader._published_page(public_filter, page)
        if public_filter.terms and count > MAX_SEARCH_PAGES * PAGE_SIZE:
            count, exact = MAX_SEARCH_PAGES * PAGE_SIZE, False
        offset = (page - 1) * PAGE_SIZE
        if page > 1 and not ids:
            raise NotFound()
        items = [self._present(item) for item in Reader._published_items(ids)]
        url_args = {
            key: value
            for key, value in (
                ("q", query),
                ("unit", public_filter.unit_id),
                ("category", public_filter.category_id),
                ("month", month if public_filter.month else None),
            )
            if value
        }
        pager = portal_pager(
            url=BASE,
            total=count,
            page=page,
            step=PAGE_SIZE,
            scope=5,
            url_args=url_args,
        )
        feed_args = f"?unit={public_filter.unit_id}" if public_filter.unit_id else ""
        base_url = request.website.get_base_url()
        stats = Reader._month_stats()
        values = {
            "items": items,
            "pager": pager,
            "query": query,
            "searched": bool(public_filter.active or query),
            "unit_id": public_filter.unit_id,
            "category_id": public_filter.category_id,
            "month": month if public_filter.month else "",
            "units": units,
            "categories": categories,
            "months": [
                (f"{y:04d}-{m:02d}", self._month_label(y, m)) for y, m in months
            ],
            "summary": self._summary(items, count, exact, offset, query, public_filter),
            "stats": [self._stat_texts(row) for row in stats],
            "stats_title": request.env._(
                "This month (%(month)s)", month=self._month_label(*self._this_month())
            ),
            "stats_help": request.env._(
                "SMS received and answered per unit, and the share answered within "
                "the deadline of %(hours)s hours. Spam is not counted.",
                hours=self._deadline_hours(),
            ),
            "rss_url": f"{base_url}{BASE}/rss.xml{feed_args}",
            "json_url": f"{base_url}{BASE}/feed.json{feed_args}",
            "feed_title": self._feed_title(units.get(public_filter.unit_id)),
            # Search results and deep pages are not worth indexing.
            "noindex": bool(public_filter.active or query or page > 1),
            "seo_object": PublicPageSeo(
                request.env._("Citizens' SMS"),
                request.env._(
                    "Questions, complaints and suggestions that citizens sent to the "
                    "SMS Center, with the answers of the units."
                ),
                f"{base_url}{BASE}",
            ),
        }
        return request.render("sms_center.sms_masyarakat_list", values)

    @http.route(
        f"{BASE}/<string:question>",
        type="http",
        auth="public",
        website=True,
        sitemap=sitemap_questions,
    )
    def sms_masyarakat_question(self, question, **_tracking):
        """One published question: ``/sms-masyarakat/<words>-<id>``."""
        _name, ticket_id = request.env["ir.http"]._unslug(question)
        if not ticket_id or not 0 < ticket_id <= MAX_ID:
            raise NotFound()
        item = request.env["sms_center.publication"]._published_one(ticket_id)
        if not item:
            raise NotFound()
        if f"{BASE}/{question}" != item["path"]:
            return request.redirect(item["path"], code=301)
        item = self._present(item, full=True)
        base_url = request.website.get_base_url()
        description = shorten(
            " ".join(item["question"].split()), 200, placeholder="…"
        ) or request.env._("Citizens' SMS to %(unit)s", unit=item["unit"])
        title = shorten(
            " ".join(item["question"].split()), 70, placeholder="…"
        ) or request.env._("Citizens' SMS to %(unit)s", unit=item["unit"])
        values = {
            "item": item,
            "heading": request.env._("Question to %(unit)s", unit=item["unit"]),
            "question_label": request.env._("Question %(id)s", id=item["id"]),
            "seo_object": PublicPageSeo(
                title, description, f"{base_url}{item['path']}", og_type="article"
            ),
        }
        return request.render("sms_center.sms_masyarakat_question", values)

    # ------------------------------------------------------------------
    # Feeds for the regency's website and for followers
    # ------------------------------------------------------------------

    @http.route(
        f"{BASE}/rss.xml", type="http", auth="public", website=True, sitemap=False
    )
    def sms_masyarakat_rss(self, unit=None, **_tracking):
        """RSS 2.0 of the last 50 published questions."""
        feed = self._feed(unit)
        rss = etree.Element("rss", version="2.0", nsmap={"atom": ATOM_NS})
        channel = etree.SubElement(rss, "channel")
        self._sub(channel, "title", feed["title"])
        self._sub(channel, "link", feed["home_page_url"])
        self._sub(channel, "description", feed["description"])
        self._sub(channel, "language", feed["language"])
        if feed["items"]:
            self._sub(
                channel, "lastBuildDate", self._rfc822(feed["items"][0]["published_at"])
            )
        etree.SubElement(
            channel,
            f"{{{ATOM_NS}}}link",
            href=feed["feed_url"],
            rel="self",
            type="application/rss+xml",
        )
        for item in feed["items"]:
            entry = etree.SubElement(channel, "item")
            self._sub(entry, "title", item["title"])
            self._sub(entry, "link", item["url"])
            self._sub(entry, "description", item["text"])
            self._sub(entry, "category", item["unit"])
            guid = self._sub(entry, "guid", item["guid"])
            guid.set("isPermaLink", "true")
            self._sub(entry, "pubDate", self._rfc822(item["published_at"]))
        body = etree.tostring(rss, xml_declaration=True, encoding="UTF-8")
        return request.make_response(
            body,
            headers=[
                ("Content-Type", "application/rss+xml; charset=utf-8"),
                ("Cache-Control", "public, max-age=300"),
            ],
        )

    @http.route(
        f"{BASE}/feed.json", type="http", auth="public", website=True, sitemap=False
    )
    def sms_masyarakat_json_feed(self, unit=None, **_tracking):
        """JSON Feed 1.1 of the last 50 published questions."""
        feed = self._feed(unit)
        data = {
            "version": "https://jsonfeed.org/version/1.1",
            "title": feed["title"],
            "home_page_url": feed["home_page_url"],
            "feed_url": feed["feed_url"],
            "description": feed["description"],
            "language": feed["language"],
            "items": [
                {
                    "id": item["guid"],
                    "url": item["url"],
                    "title": item["title"],
                    "content_text": item["text"],
                    "date_published": item["published_at"]
                    .replace(tzinfo=UTC)
                    .isoformat(),
                    "tags": [tag for tag in (item["unit"], item["category"]) if tag],
                }
                for item in feed["items"]
            ],
        }
        return request.make_response(
            json.dumps(data, ensure_ascii=False, indent=1),
            headers=[
                ("Content-Type", "application/feed+json; charset=utf-8"),
                ("Cache-Control", "public, max-age=300"),
            ],
        )

    def _feed(self, unit):
        Reader = request.env["sms_center.publication"]
        units = Reader._public_units()
        unit_id = self._parse_choice(unit, units)
        base_url = request.website.get_base_url()
        query = f"?unit={unit_id}" if unit_id else ""
        items = []
        for item in Reader._published_items(Reader._feed_ids(unit_id)):
            item = self._present(item, full=True)
            items.append(
                {
                    **item,
                    "url": f"{base_url}{item['path']}",
                    # Stable whatever the wording: /sms-masyarakat/<id>
                    # redirects to the page.
                    "guid": f"{base_url}{BASE}/{item['id']}",
                    "title": shorten(
                        " ".join(item["question"].split()), 90, placeholder="…"
                    )
                    or request.env._("Citizens' SMS to %(unit)s", unit=item["unit"]),
                    "text": self._feed_text(item),
                }
            )
        lang = request.lang.code if request.lang else "id_ID"
        return {
            "title": self._feed_title(units.get(unit_id)),
            "home_page_url": f"{base_url}{BASE}{query}",
            "feed_url": f"{base_url}{request.httprequest.path}{query}",
            "description": request.env._(
                "Answered SMS of citizens to the SMS Center, with personal data "
                "masked."
            ),
            "language": lang.replace("_", "-"),
            "items": items,
        }

    def _feed_text(self, item):
        lines = [item["question"]]
        for answer in item["answers"]:
            lines += [
                "",
                request.env._("Answer from %(unit)s:", unit=item["unit"]),
                answer["text"],
            ]
        return "\n".join(lines)

    def _feed_title(self, unit_name=None):
        website = request.website.name
        if unit_name:
            return request.env._(
                "Citizens' SMS to %(unit)s - %(website)s",
                unit=unit_name,
                website=website,
            )
        return request.env._("Citizens' SMS - %(website)s", website=website)

    @staticmethod
    def _sub(parent, tag, text):
        element = etree.SubElement(parent, tag)
        element.text = text or ""
        return element

    @staticmethod
    def _rfc822(value):
        return rfc822_datetime(value.replace(tzinfo=UTC))

    # ------------------------------------------------------------------
    # Parameters and presentation
    # ------------------------------------------------------------------

    def _parse_filter(self, q, unit, category, month, units):
        """``(query shown, PublicFilter)``; an unknown unit, category or a
        malformed month is a 404."""
        query = " ".join(str(q or "").split())[:MAX_QUERY_SHOWN]
        unit_id = self._parse_choice(unit, units)
        category_id = self._parse_id(category)
        month_value = None
        if month:
            match = _MONTH.fullmatch(str(month).strip())
            if not match:
                raise NotFound()
            year, number = int(match[1]), int(match[2])
            if not (2000 <= year <= 2100 and 1 <= number <= 12):
                raise NotFound()
            month_value = (year, number)
        return query, PublicFilter(
            terms=tuple(masking.search_terms(query)),
            unit_id=unit_id,
            category_id=category_id,
            month=month_value,
        )

    def _parse_id(self, value):
        if value in (None, ""):
            return None
        value = str(value).strip()
        if not _ID.fullmatch(value):
            raise NotFound()
        return int(value)

    def _parse_choice(self, value, choices):
        choice = self._parse_id(value)
        if choice is not None and choice not in choices:
            raise NotFound()
        return choice

    def _present(self, item, full=False):
        """Add what the templates show: local dates, response time."""
        tz = regency_tz(request.env)
        question = item["question"]
        shown = question
        if not full and len(question) > LIST_EXCERPT:
            shown = question[: LIST_EXCERPT - 1].rstrip() + "…"
        answers = [
            {
                **answer,
                "label": request.env._(
                    "Answer from %(unit)s, %(date)s",
                    unit=item["unit"],
                    date=self._datetime_text(answer["date"], tz),
                ),
            }
            for answer in item["answers"]
        ]
        return {
            **item,
            "question_shown": shown,
            "truncated": shown != question,
            "answers": answers,
            "sender_label": request.env._("Sender %(number)s", number=item["sender"]),
            "received": self._datetime_text(item["received_at"], tz),
            "received_iso": self._iso(item["received_at"]),
            "answered": self._datetime_text(item["answered_at"], tz),
            "response": self._response_text(item["response_minutes"])
            if item["answered_at"]
            else "",
        }

    def _datetime_text(self, value, tz):
        """ "12 Mar 2025 14.05" in the regency's time zone and the page's
        language."""
        if not value:
            return ""
        locale, day, clock = _date_patterns(request.lang.code if request.lang else "")
        value = pytz.utc.localize(value)
        return (
            f"{format_datetime(value, day, tzinfo=tz, locale=locale)} "
            f"{format_datetime(value, clock, tzinfo=tz, locale=locale)}"
        )

    @staticmethod
    def _iso(value):
        return value.replace(tzinfo=UTC).isoformat() if value else ""

    def _month_label(self, year, month):
        """ "Maret 2025" / "March 2025"."""
        locale = _date_patterns(request.lang.code if request.lang else "")[0]
        return format_skeleton("yMMMM", date(year, month, 1), locale=locale)

    def _this_month(self):
        tz = regency_tz(request.env)
        now = pytz.utc.localize(fields.Datetime.now()).astimezone(tz)
        return now.year, now.month

    def _summary(self, items, count, exact, offset, query, public_filter):
        env = request.env
        if not items:
            if query:
                return env._('No published SMS match "%(query)s".', query=query)
            if public_filter.active:
                return env._("No published SMS match these filters.")
            return env._("No answered SMS has been published yet.")
        values = {"first": offset + 1, "last": offset + len(items), "count": count}
        if exact:
            text = env._("%(first)s-%(last)s of %(count)s questions", **values)
        else:
            text = env._(
                "%(first)s-%(last)s of more than %(count)s questions", **values
            )
        if query:
            text = env._('%(results)s for "%(query)s"', results=text, query=query)
        return text

    def _stat_texts(self, row):
        env = request.env
        percent = row["in_time_percent"]
        return {
            **row,
            "received_text": env._("%(count)s received", count=row["received"]),
            "answered_text": env._("%(count)s answered", count=row["answered"]),
            "in_time_text": env._("%(percent)s%% within the deadline", percent=percent)
            if percent is not None
            else "",
        }

    def _response_text(self, minutes):
        """ "answered in 1 h 20 min" ("dijawab dalam 1 jam 20 menit")."""
        env = request.env
        minutes = max(0, int(minutes or 0))
        days, minutes = divmod(minutes, 24 * 60)
        hours, minutes = divmod(minutes, 60)
        parts = []
        if days:
            parts.append(env._("%(count)s d", count=days))
        if hours:
            parts.append(env._("%(count)s h", count=hours))
        if minutes or not parts:
            parts.append(env._("%(count)s min", count=minutes))
        return env._("answered in %(duration)s", duration=" ".join(parts))

    def _deadline_hours(self):
        hours, _calendar = request.env[
            "helpdesk.ticket"
        ]._sms_center_deadline_settings()
        hours = hours or DEFAULT_DEADLINE_HOURS
        return int(hours) if float(hours).is_integer() else hours
