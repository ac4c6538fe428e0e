import json
import re
import xmlrpc.client
from datetime import datetime
from email.utils import parsedate_to_datetime
from html import unescape
from xml.etree import ElementTree

from odoo.tests import HttpCase, JsonRpcException, new_test_user, tagged
from odoo.tools import mute_logger

from ..models import sms_center_publication


class PublicSiteCase(HttpCase):
    """A unit with published, unpublished, excluded and unanswered SMS."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        ICP = cls.env["ir.config_parameter"].sudo()
        ICP.set_param("sms_center.publication_mode", "auto")
        ICP.set_param("sms_center.publication_delay_minutes", "0")
        cls.Message = cls.env["sms_center.message"]
        cls.team = cls.env["helpdesk.ticket.team"].create({"name": "Web Test Unit"})
        cls.officer_user = new_test_user(
            cls.env,
            login="web_officer",
            name="Officer Rahasia Namanya",
            groups="sms_center.group_officer",
        )
        officer = cls.env["sms_center.officer"].create(
            {"user_id": cls.officer_user.id, "notification_mobile": "081211118888"}
        )
        cls.keyword = cls.env["sms_center.keyword"].create(
            {
                "name": "WEBKW",
                "team_id": cls.team.id,
                "officer_ids": [(6, 0, officer.ids)],
            }
        )
        cls.published = cls.ask(
            "081377776666",
            "WEBKW lampu jalan webtest di desa Kalilunjar mati, NIK 3304011234560012",
            "Lampu diperbaiki besok pagi oleh webtest.",
        )
        cls.published.notes = "<p>catatan internal webtest rahasia</p>"
        cls.unanswered = cls.Message.receive(
            "081377776667", "WEBKW webtest belum dijawab"
        ).ticket_id
        cls.spam = cls.ask("081377776668", "WEBKW webtest iklan pinjol", "Jawaban.")
        cls.spam.sms_message_ids.write(
            {"moderation_state": "spam", "moderation_reason": "Iklan"}
        )
        cls.excluded = cls.ask("081377776669", "WEBKW webtest nama orang", "Jawaban.")
        cls.excluded.sms_message_ids.write(
            {"moderation_state": "excluded", "moderation_reason": "Nama"}
        )
        cls.withdrawn = cls.ask("081377776670", "WEBKW webtest ditarik", "Jawaban.")
        cls.withdrawn.with_user(cls.env.ref("base.user_admin")).action_sms_unpublish()
        cls.other_ticket = cls.env["helpdesk.ticket"].create(
            {"name": "webtest bukan SMS", "description": "webtest bukan SMS"}
        )
        cls.reader = cls.env["sms_center.publication"]

    @classmethod
    def ask(cls, sender, text, answer):
        ticket = cls.Message.receive(sender, text).ticket_id
        cls.env["sms_center.reply.wizard"].with_user(ticket.user_id).create(
            {"ticket_id": ticket.id, "body": answer}
        ).action_send()
        return ticket

    def setUp(self):
        super().setUp()
        sms_center_publication._stats_cache.clear()

    def path(self, ticket):
        return self.reader._published_one(ticket.id)["path"]

    def get(self, url, status=200, **kwargs):
        response = self.url_open(url, **kwargs)
        self.assertEqual(response.status_code, status, url)
        return response


@tagged("post_install", "-at_install")
class TestPublicPages(PublicSiteCase):
    def test_list_shows_published_sms_only(self):
        html = self.get(f"/sms-masyarakat?unit={self.team.id}").text
        self.assertIn("lampu jalan webtest di desa Kalilunjar mati", html)
        self.assertIn("Lampu diperbaiki besok pagi oleh webtest.", html)
        self.assertIn("0813****666", html)
        self.assertIn("3304**********12", html)
        self.assertIn("Web Test Unit", html)
        self.assertIn(self.path(self.published), html)
        for hidden in (
            "belum dijawab",
            "iklan pinjol",
            "nama orang",
            "ditarik",
            "bukan SMS",
            "081377776666",
            "+6281377776666",
            "3304011234560012",
            "Officer Rahasia Namanya",
            "web_officer",
            "catatan internal",
        ):
            self.assertNotIn(hidden, html)
        self.assertEqual(html.count('class="card mb-3 o_sms_question"'), 1)

    def test_links_shared_with_tracking_parameters_and_logged_in_users(self):
        for url in (
            "/sms-masyarakat?fbclid=abc&utm_source=wa",
            f"{self.path(self.published)}?fbclid=abc",
            "/sms-masyarakat/rss.xml?utm_medium=feed",
            "/sms-masyarakat/feed.json?utm_medium=feed",
        ):
            self.get(url)
        # The same pages for officers and the website's administrators.
        for login in ("web_officer", "admin"):
            self.authenticate(login, login)
            html = self.get(f"/sms-masyarakat?unit={self.team.id}").text
            self.assertIn("lampu jalan webtest", html)
            self.assertNotIn("webtest belum dijawab", html)
            self.get(self.path(self.published))

    def test_no_javascript_needed(self):
        """Results, filters and paging are plain HTML: a GET form and links."""
        html = self.get(f"/sms-masyarakat?q=webtest&unit={self.team.id}").text
        self.assertRegex(html, r'<form method="get" action="/sms-masyarakat"')
        self.assertIn("lampu jalan webtest", html)
        self.assertRegex(html, rf'<option value="{self.team.id}" selected')
        self.assertRegex(html, r'<input type="search" name="q"[^>]*value="webtest"')

    def test_question_page(self):
        path = self.path(self.published)
        self.assertRegex(
            path,
            rf"^/sms-masyarakat/lampu-jalan-webtest-[a-z0-9-]+-{self.published.id}$",
        )
        html = self.get(path).text
        self.assertIn("lampu jalan webtest di desa Kalilunjar mati", html)
        self.assertIn("Lampu diperbaiki besok pagi oleh webtest.", html)
        self.assertIn("0813****666", html)
        self.assertIn('href="/sms-masyarakat"', html)
        self.assertRegex(
            html, r'<meta property="og:title" content="lampu jalan webtest'
        )
        self.assertRegex(
            html, r'<meta property="og:url" content="http[^"]+' + re.escape(path)
        )
        self.assertRegex(html, r'<meta name="description" content="lampu jalan webtest')
        self.assertIn('<meta property="og:type" content="article"', html)
        self.assertNotIn("3304011234560012", html)
        self.assertNotIn("Officer Rahasia Namanya", html)
        # Old or shortened addresses lead to the page.
        for old in (
            f"/sms-masyarakat/{self.published.id}",
            f"/sms-masyarakat/lama-{self.published.id}",
        ):
            response = self.get(old, status=301, allow_redirects=False)
            self.assertTrue(response.headers["Location"].endswith(path), old)

    @mute_logger("odoo.http")
    def test_hidden_questions_are_not_found(self):
        for ticket in (
            self.unanswered,
            self.spam,
            self.excluded,
            self.withdrawn,
            self.other_ticket,
        ):
            for url in (
                f"/sms-masyarakat/{ticket.id}",
                f"/sms-masyarakat/judul-{ticket.id}",
            ):
                self.get(url, status=404)
        for url in (
            "/sms-masyarakat/999999999",
            "/sms-masyarakat/99999999999999",
            "/sms-masyarakat/page",
            "/sms-masyarakat/-5",
            "/sms-masyarakat/tanpa-angka",
        ):
            self.get(url, status=404)

    @mute_logger("odoo.http")
    def test_bad_parameters_give_a_page_or_404(self):
        for url in (
            "/sms-masyarakat/page/abc",
            "/sms-masyarakat/page/0",
            "/sms-masyarakat/page/99999999999999999999",
            "/sms-masyarakat/page/500",
            "/sms-masyarakat/page/999999",
            "/sms-masyarakat?unit=abc",
            "/sms-masyarakat?unit=99999999",
            f"/sms-masyarakat?unit={self.team.id}x",
            "/sms-masyarakat?category=1%20OR%201=1",
            "/sms-masyarakat?category=99999999",
            "/sms-masyarakat?month=2025-13",
            "/sms-masyarakat?month=abc",
            "/sms-masyarakat?month=1899-01",
            "/sms-masyarakat/rss.xml?unit=abc",
            "/sms-masyarakat/feed.json?unit=99999999",
        ):
            self.get(url, status=404)
        long_query = "jalan " * 1000
        self.get(f"/sms-masyarakat?q={long_query}")
        for query in (
            "' OR 1=1 --",
            "webtest'); DROP TABLE helpdesk_ticket; --",
            "a:* | b & !c",
            "\\",
            "%",
            "😀",
            "",
        ):
            response = self.opener.get(
                self.base_url() + "/sms-masyarakat", params={"q": query}, timeout=12
            )
            self.assertEqual(response.status_code, 200, query)
        html = self.opener.get(
            self.base_url() + "/sms-masyarakat",
            params={"q": '<script>alert("x")</script> webtest'},
            timeout=12,
        ).text
        self.assertNotIn('<script>alert("x")</script>', html)
        self.assertIn("&lt;script&gt;alert(", html)

    def test_search_and_filters(self):
        base = "/sms-masyarakat"
        self.assertIn("lampu jalan webtest", self.get(f"{base}?q=KALILUNJAR").text)
        self.assertNotIn(
            "lampu jalan webtest", self.get(f"{base}?q=kalilunjarzzz").text
        )
        self.assertIn(
            "lampu jalan webtest", self.get(f"{base}?q=diperbaiki+besok+webtest").text
        )
        category = self.env.ref("sms_center.category_complaint")
        self.assertNotIn(
            "lampu jalan webtest",
            self.get(f"{base}?unit={self.team.id}&category={category.id}").text,
        )
        self.published.category_id = category
        html = self.get(f"{base}?unit={self.team.id}&category={category.id}").text
        self.assertIn("lampu jalan webtest", html)
        received = self.published.sms_received_at
        month = self.reader._public_months()[0]
        self.assertIn(
            "lampu jalan webtest",
            self.get(f"{base}?month={month[0]:04d}-{month[1]:02d}&q=webtest").text,
        )
        self.assertTrue(received)
        self.assertNotIn("lampu jalan webtest", self.get(f"{base}?month=2001-01").text)

    def test_pagination_with_stable_urls(self):
        team = self.env["helpdesk.ticket.team"].create({"name": "Paging Unit"})
        self.keyword.team_id = team
        for index in range(45):
            self.ask(f"0813888{index:05d}", f"WEBKW halaman nomor{index:02d}", "Ya.")
        base = "/sms-masyarakat"
        page1 = self.get(f"{base}?unit={team.id}").text
        self.assertEqual(page1.count('class="card mb-3 o_sms_question"'), 20)
        self.assertIn("nomor44", page1)
        self.assertIn(f"/sms-masyarakat/page/2?unit={team.id}", unescape(page1))
        page3 = self.get(f"{base}/page/3?unit={team.id}").text
        self.assertEqual(page3.count('class="card mb-3 o_sms_question"'), 5)
        self.assertIn("nomor00", page3)
        self.assertIn("nomor04", page3)
        self.assertNotIn("nomor05", page3)
        self.get(f"{base}/page/4?unit={team.id}", status=404)
        # The same URL shows the same questions.
        self.assertEqual(
            re.findall(r"nomor\d\d", self.get(f"{base}/page/2?unit={team.id}").text),
            re.findall(r"nomor\d\d", self.get(f"{base}/page/2?unit={team.id}").text),
        )

    def test_accountability_panel(self):
        html = self.get("/sms-masyarakat").text
        panel = html[html.index("o_sms_accountability") :]
        self.assertIn("Web Test Unit", panel)
        self.assertNotIn("Officer Rahasia Namanya", panel)
        stats = {row["unit"]: row for row in self.reader._month_stats()}
        # Spam is not counted; excluded and withdrawn SMS are.
        self.assertEqual(stats["Web Test Unit"]["received"], 4)
        self.assertEqual(stats["Web Test Unit"]["answered"], 3)

    def test_menu_entry_in_indonesian(self):
        website = self.env["website"].get_current_website()
        menu = self.env["website.menu"].search(
            [("url", "=", "/sms-masyarakat"), ("website_id", "=", website.id)]
        )
        self.assertEqual(len(menu), 1)
        self.assertEqual(menu.parent_id, website.menu_id)
        self.assertEqual(menu.with_context(lang="id_ID").name, "SMS Masyarakat")
        self.assertIn('href="/sms-masyarakat"', self.get("/").text)

    def test_sitemap(self):
        self.env["ir.attachment"].search([("url", "=like", "/sitemap%")]).unlink()
        xml = self.get("/sitemap.xml").text
        self.assertIn(self.path(self.published), xml)
        self.assertNotIn(f"-{self.unanswered.id}</loc>", xml)


@tagged("post_install", "-at_install")
class TestPublicFeeds(PublicSiteCase):
    def test_rss(self):
        response = self.get(f"/sms-masyarakat/rss.xml?unit={self.team.id}")
        self.assertIn("application/rss+xml", response.headers["Content-Type"])
        rss = ElementTree.fromstring(response.content)
        self.assertEqual(rss.tag, "rss")
        self.assertEqual(rss.get("version"), "2.0")
        channel = rss.find("channel")
        for tag in ("title", "link", "description"):
            self.assertTrue(channel.findtext(tag), tag)
        self.assertTrue(
            channel.findtext("link").endswith(f"/sms-masyarakat?unit={self.team.id}")
        )
        items = channel.findall("item")
        self.assertEqual(len(items), 1)
        item = items[0]
        for tag in ("title", "link", "guid", "pubDate", "description"):
            self.assertTrue(item.findtext(tag), tag)
        self.assertEqual(item.find("guid").get("isPermaLink"), "true")
        self.assertTrue(item.findtext("link").endswith(self.path(self.published)))
        self.assertIn(
            "Lampu diperbaiki besok pagi oleh webtest.", item.findtext("description")
        )
        self.assertIn("3304**********12", item.findtext("description"))
        published = parsedate_to_datetime(item.findtext("pubDate"))
        self.assertEqual(
            published.replace(tzinfo=None), self.published.sms_published_at
        )
        self.assertEqual(item.findtext("category"), "Web Test Unit")
        # The link and the guid lead to the question page.
        link = item.findtext("link")
        self.get(link[link.index("/sms-masyarakat") :])
        guid = item.findtext("guid")
        self.get(
            guid[guid.index("/sms-masyarakat") :], status=301, allow_redirects=False
        )

    def test_rss_without_filter_has_at_most_50_items(self):
        for index in range(3):
            self.ask(f"0813999{index:05d}", f"WEBKW umpan nomor {index}", "Ya.")
        rss = ElementTree.fromstring(self.get("/sms-masyarakat/rss.xml").content)
        items = rss.find("channel").findall("item")
        self.assertLessEqual(len(items), 50)
        self.assertIn("umpan nomor 2", items[0].findtext("title"))
        for item in items:
            self.assertNotIn("webtest belum", item.findtext("title"))
            self.assertNotIn("iklan pinjol", item.findtext("title"))

    def test_json_feed(self):
        response = self.get(f"/sms-masyarakat/feed.json?unit={self.team.id}")
        self.assertIn("application/feed+json", response.headers["Content-Type"])
        feed = json.loads(response.content)
        self.assertEqual(feed["version"], "https://jsonfeed.org/version/1.1")
        self.assertTrue(feed["title"])
        self.assertTrue(
            feed["home_page_url"].endswith(f"/sms-masyarakat?unit={self.team.id}")
        )
        self.assertTrue(
            feed["feed_url"].endswith(f"/sms-masyarakat/feed.json?unit={self.team.id}")
        )
        self.assertEqual(len(feed["items"]), 1)
        item = feed["items"][0]
        self.assertTrue(item["id"])
        self.assertTrue(item["url"].endswith(self.path(self.published)))
        self.assertIn("lampu jalan webtest", item["content_text"])
        self.assertIn("Lampu diperbaiki besok pagi oleh webtest.", item["content_text"])
        published = datetime.fromisoformat(item["date_published"])
        self.assertEqual(
            published.replace(tzinfo=None), self.published.sms_published_at
        )
        self.assertIn("Web Test Unit", item["tags"])

    def test_feeds_are_advertised_in_the_list(self):
        html = self.get(f"/sms-masyarakat?unit={self.team.id}").text
        self.assertRegex(
            html,
            r'<link rel="alternate" type="application/rss\+xml" title="[^"]+" '
            rf'href="http[^"]+/sms-masyarakat/rss.xml\?unit={self.team.id}"',
        )
        self.assertRegex(
            html,
            r'<link rel="alternate" type="application/feed\+json" title="[^"]+" '
            rf'href="http[^"]+/sms-masyarakat/feed.json\?unit={self.team.id}"',
        )


@tagged("post_install", "-at_install")
class TestPublicAccess(PublicSiteCase):
    """The public and portal users read nothing beyond the published pages."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.portal_user = new_test_user(
            cls.env,
            login="web_portal",
            name="Portal Citizen",
            groups="base.group_portal",
        )
        cls.citizen = cls.published.partner_id
        cls.targets = [
            ("helpdesk.ticket", cls.published.id),
            ("sms_center.message", cls.published.sms_message_ids[:1].id),
            ("sms_center.reply", cls.published.sms_reply_ids[:1].id),
            ("res.partner", cls.citizen.id),
        ]

    def call_kw(self, model, method, args, kwargs=None):
        return self.make_jsonrpc_request(
            f"/web/dataset/call_kw/{model}/{method}",
            {"model": model, "method": method, "args": args, "kwargs": kwargs or {}},
        )

    @mute_logger("odoo.http")
    def test_anonymous_cannot_call_the_orm(self):
        for model, record_id in self.targets:
            with self.subTest(model=model), self.assertRaises(JsonRpcException):
                self.call_kw(model, "read", [[record_id]], {"fields": ["display_name"]})
            with self.subTest(model=model), self.assertRaises(JsonRpcException):
                self.call_kw(model, "search_read", [[]], {"fields": ["display_name"]})

    @mute_logger(
        "odoo.http",
        "odoo.addons.base.models.ir_rule",
        "odoo.addons.base.models.ir_model",
    )
    def test_portal_cannot_read_sms_data(self):
        self.authenticate("web_portal", "web_portal")
        for model, record_id in self.targets:
            with self.subTest(model=model), self.assertRaises(JsonRpcException):
                self.call_kw(model, "read", [[record_id]], {"fields": ["display_name"]})
        for model, record_id in self.targets:
            with self.subTest(model=model):
                try:
                    found = self.call_kw(
                        model,
                        "search_read",
                        [[("id", "=", record_id)]],
                        {"fields": ["display_name"]},
                    )
                except JsonRpcException:
                    continue
                self.assertEqual(found, [])
        # The portal's own pages of helpdesk_mgmt list none of the SMS.
        html = self.get("/my/tickets").text
        self.assertNotIn("lampu jalan webtest", html)
        response = self.url_open(f"/my/ticket/{self.published.id}")
        self.assertNotIn("lampu jalan webtest", response.text)

    @mute_logger(
        "odoo.http",
        "odoo.addons.base.models.ir_rule",
        "odoo.addons.base.models.ir_model",
    )
    def test_portal_cannot_use_external_rpc(self):
        db = self.env.cr.dbname
        uid = self.xmlrpc_common.authenticate(db, "web_portal", "web_portal", {})
        self.assertEqual(uid, self.portal_user.id)
        for model, record_id in self.targets:
            with (
                self.subTest(api="xmlrpc", model=model),
                self.assertRaises(xmlrpc.client.Fault),
            ):
                self.xmlrpc_object.execute_kw(
                    db,
                    uid,
                    "web_portal",
                    model,
                    "read",
                    [[record_id]],
                    {"fields": ["display_name"]},
                )
            with (
                self.subTest(api="jsonrpc", model=model),
                self.assertRaises(JsonRpcException),
            ):
                self.make_jsonrpc_request(
                    "/jsonrpc",
                    {
                        "service": "object",
                        "method": "execute_kw",
                        "args": [
                            db,
                            uid,
                            "web_portal",
                            model,
                            "read",
                            [[record_id]],
                            {"fields": ["display_name"]},
                        ],
                    },
                )

    def test_public_reader_is_not_callable_from_outside(self):
        """The reader's methods are private: the RPC layer refuses them."""
        self.authenticate("web_portal", "web_portal")
        with mute_logger("odoo.http"), self.assertRaises(JsonRpcException):
            self.call_kw(
                "sms_center.publication", "_published_items", [[self.unanswered.id]]
            )


@tagged("post_install", "-at_install")
class TestPublicTour(PublicSiteCase):
    """A visitor finds an answer from the website's menu, no login."""

    def test_tour_desktop(self):
        self.start_tour("/", "sms_center_publication_tour")

    def test_tour_phone(self):
        self.browser_size = "375x667"
        self.touch_enabled = True
        self.start_tour("/", "sms_center_publication_tour")
