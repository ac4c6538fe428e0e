"""The public keyword page: where to send, every keyword with its aliases,
in the website menu, in the website's language (R4)."""

import base64

from lxml import html

from odoo.tests import HttpCase, tagged
from odoo.tools import file_open


@tagged("post_install", "-at_install")
class TestPublicKeywordPage(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Gateway = cls.env["sms_center.gateway"]
        # Only the gateways of this test receive.
        Gateway.search([]).write({"receiving_numbers": False})
        team = cls.env["helpdesk.ticket.team"].create({"name": "Unit Uji Publik"})
        cls.keyword = cls.env["sms_center.keyword"].create(
            {
                "name": "TPUBLIK",
                "team_id": team.id,
                "description": "Pertanyaan uji halaman publik",
                "alias_ids": [(0, 0, {"name": "TUJI"}), (0, 0, {"name": "TCOBA"})],
            }
        )
        Gateway.create(
            {
                "name": "Kannel publik",
                "code": "t-public-kannel",
                "gateway_type": "kannel",
                "receiving_numbers": "+6281390001111, 0813-9000-2222",
            }
        )
        Gateway.create(
            {
                "name": "Kannel lama",
                "code": "t-old-kannel",
                "gateway_type": "kannel",
                "receiving_numbers": "+6281390003333",
                "active": False,
            }
        )
        Gateway.create(
            {
                "name": "Simulator uji",
                "code": "t-public-simulator",
                "gateway_type": "simulator",
                "receiving_numbers": "+6281390004444",
                "simulator_numbers": "08127777*",
            }
        )

    def page(self, url="/sms/keywords"):
        response = self.url_open(url)
        self.assertEqual(response.status_code, 200)
        return html.fromstring(response.content), response.text

    def test_numbers_keywords_and_aliases(self):
        tree, text = self.page()
        self.assertIn("0813-9000-1111", text)
        self.assertIn("0813-9000-2222", text)
        self.assertNotIn("0813-9000-3333", text, "archived gateway")
        self.assertNotIn("0813-9000-4444", text, "a simulator of test numbers")
        self.assertTrue(tree.xpath("//a[@href='sms:081390001111']"))
        row = tree.xpath("//tr[td/strong[text()='TPUBLIK']]")[0]
        self.assertIn("TUJI", row.text_content())
        self.assertIn("TCOBA", row.text_content())
        self.assertIn("Unit Uji Publik", row.text_content())

    def test_in_the_website_menu_and_in_indonesian(self):
        website = self.env["website"].get_current_website()
        lang = self.env["res.lang"]._lang_get("id_ID")
        website.write({"language_ids": [(4, lang.id)], "default_lang_id": lang.id})
        tree, _text = self.page("/")
        links = tree.xpath("//header//a[contains(@href, '/sms/keywords')]")
        self.assertTrue(links, "the keyword page is in the main menu")
        self.assertIn("Kata kunci SMS", links[0].text_content())
        tree, _text = self.page()
        self.assertIn("Kata kunci SMS Center", tree.findtext(".//title"))
        self.assertEqual(tree.xpath("string(//h1)").strip(), "Kata kunci SMS Center")

    def test_demo_footer_is_the_regencys(self):
        _tree, text = self.page("/")
        self.assertNotIn("555-555", text)
        self.assertNotIn("yourcompany", text.lower())
        self.assertIn("0812-2700-0000", text)

    def test_demo_website_pages_are_the_regencys(self):
        # The contact page (header button, footer link) had Odoo's sample
        # company with a +1 555 number.
        _tree, text = self.page("/contactus")
        self.assertNotIn("555-555", text)
        self.assertNotIn("Fake Buena Vista", text)
        self.assertNotIn("yourcompany", text.lower())
        self.assertIn("sms:081227000000", text)
        # The home page is the public SMS Masyarakat page, not an empty one.
        tree, _text = self.page("/")
        wrap = tree.xpath("//div[@id='wrap']")
        self.assertIn("o_sms_masyarakat", wrap[0].get("class"))
        # The header shows the SMS Center's logo, not Odoo's "YourLogo".
        website = self.env.ref("website.default_website")
        with file_open("sms_center/static/description/icon.png", "rb") as icon:
            icon_bytes = icon.read()
        self.assertEqual(base64.b64decode(website.logo), icon_bytes)
        # So does the letterhead of the reports (the company's logo).
        self.assertEqual(
            base64.b64decode(self.env.ref("base.main_company").logo), icon_bytes
        )
