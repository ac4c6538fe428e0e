"""Every SMS the center writes fits one GSM-7 SMS (160 characters) in
Indonesian, with the longest values the data allows or a realistic
longest where the data sets no limit.

The values:

* keywords: 20 characters, the most a keyword may have
  (``keyword_parser.KEYWORD_MAX_LENGTH``), e.g. ``PENDIDIKANKEBUDAYAAN``;
* counts: 4 digits (9999), more SMS than a regency's center receives for
  one officer in a month;
* addresses: ``web.base.url`` and the public keyword page are free text, so
  a realistic longest: an ``smscenter.`` host on one of the longest regency
  domains (``labuhanbatuselatankab.go.id``);
* officers' names (free text): a head of agency with academic titles.

Texts that can grow without limit (an officer holding many keywords, a
superior with many officers, the whole keyword list) fall back to a shorter
text; the tests check that the fallback is taken and fits too.
"""

from odoo.tests import tagged

from ..lib import gsm
from ..models.sms_center_reminder import INBOX_PATH
from .common import SmsCenterCase
from .test_reminders import ReminderCaseMixin

LONGEST_KEYWORD = "PENDIDIKANKEBUDAYAAN"
LARGEST_COUNT = 9999
BASE_URL = "https://smscenter.labuhanbatuselatankab.go.id"
INBOX_URL = BASE_URL + INBOX_PATH
KEYWORD_PAGE = BASE_URL + "/sms/keywords"
LONG_OFFICER_NAME = "Dr. dr. Raden Roro Sri Wulandari Lestari, Sp.PD., M.Kes."
MANY_LONG_KEYWORDS = [f"{LONGEST_KEYWORD[:-1]}{n}" for n in range(1, 6)]


@tagged("post_install", "-at_install")
class TestSmsTextsIndonesian(ReminderCaseMixin, SmsCenterCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("id_ID")
        ICP = cls.env["ir.config_parameter"].sudo()
        ICP.set_param("web.base.url", BASE_URL)
        ICP.set_param("sms_center.public_keywords_url", KEYWORD_PAGE)
        ICP.set_param("sms_center.citizen_lang", "id_ID")
        (cls.user_health | cls.user_roads | cls.user_successor).lang = "id_ID"
        cls.kw_longest = cls.Keyword.create(
            {
                "name": LONGEST_KEYWORD,
                "team_id": cls.team_health.id,
                "officer_ids": [(6, 0, cls.officer_health.ids)],
            }
        )
        cls.Reminder = cls.env["sms_center.reminder"].with_context(lang="id_ID")

    def assertOneSms(self, text):
        length = gsm.measure(text)
        self.assertEqual(
            (length.encoding, length.parts),
            ("gsm7", 1),
            f"not one GSM-7 SMS ({length.units} characters): {text}",
        )

    def assertCitizenSms(self, text):
        """One SMS, and nothing a citizen could misread (glossary)."""
        self.assertOneSms(text)
        self.assertNotIn("tiket", text.lower())
        self.assertNotIn("Daftar:", text)

    # ------------------------------------------------------------------
    # Automatic replies to an unknown keyword (citizens)
    # ------------------------------------------------------------------

    def test_unknown_keyword_reply_with_the_keyword_list(self):
        """A short keyword list is sent in the SMS itself."""
        self.Keyword.search(
            [("id", "not in", (self.kw_health | self.kw_roads | self.kw_longest).ids)]
        ).active = False
        body = self.receive("HALO pak bupati").auto_reply_body
        self.assertCitizenSms(body)
        self.assertEqual(
            body,
            "Kata kunci tidak dikenal. Kirim: KATAKUNCI pesan Anda. Pilihan: "
            + ", ".join(self.Keyword.search([]).mapped("name")),
        )
        self.assertIn(LONGEST_KEYWORD, body)

    def test_unknown_keyword_reply_with_the_keyword_page(self):
        """A keyword list too long for one SMS becomes the page's address."""
        for name in MANY_LONG_KEYWORDS:
            self.Keyword.create({"name": name, "team_id": self.team_roads.id})
        body = self.receive("HALO pak bupati").auto_reply_body
        self.assertCitizenSms(body)
        self.assertEqual(
            body,
            "Kata kunci tidak dikenal. Kirim: KATAKUNCI pesan Anda. "
            f"Daftar kata kunci: {KEYWORD_PAGE}",
        )

    def test_unknown_keyword_reply_did_you_mean(self):
        """Longest misspelt word and longest suggestion."""
        misspelt = LONGEST_KEYWORD[:-1] + "M"
        body = self.receive(f"{misspelt} sekolah rusak").auto_reply_body
        self.assertCitizenSms(body)
        self.assertEqual(
            body,
            f"Kata kunci {misspelt} tidak dikenal. Maksud Anda {LONGEST_KEYWORD}? "
            f"Kirim: {LONGEST_KEYWORD} pesan Anda.",
        )

    # ------------------------------------------------------------------
    # Reminders and escalation (officers and superiors)
    # ------------------------------------------------------------------

    def assertLongestFits(self, texts, *expected):
        """With the longest values the most informative text is sent."""
        sent = gsm.first_fitting(texts)
        self.assertOneSms(sent)
        self.assertEqual(sent, texts[0])
        for part in expected:
            self.assertIn(part, sent)

    def assertFallbackFits(self, texts, *absent):
        """Too long with every name: a shorter text that fits is sent."""
        self.assertGreater(gsm.measure(texts[0]).parts, 1)
        sent = gsm.first_fitting(texts)
        self.assertOneSms(sent)
        for part in absent:
            self.assertNotIn(part, sent)

    def test_hourly_reminder_texts(self):
        R = self.Reminder
        for since in (None, "20:30"):
            with self.subTest(since=since):
                self.assertLongestFits(
                    R._hourly_texts(LARGEST_COUNT, [LONGEST_KEYWORD], INBOX_URL, since),
                    f"{LARGEST_COUNT} SMS baru ke {LONGEST_KEYWORD}",
                    f"Jawab di {INBOX_URL}",
                )
                self.assertFallbackFits(
                    R._hourly_texts(
                        LARGEST_COUNT, MANY_LONG_KEYWORDS, INBOX_URL, since
                    ),
                    MANY_LONG_KEYWORDS[0],
                )

    def test_daily_reminder_texts(self):
        R = self.Reminder
        for overdue in (0, LARGEST_COUNT):
            with self.subTest(overdue=overdue):
                self.assertLongestFits(
                    R._daily_texts(
                        LARGEST_COUNT, [LONGEST_KEYWORD], overdue, INBOX_URL
                    ),
                    f"{LARGEST_COUNT} SMS ke {LONGEST_KEYWORD} belum dijawab",
                    f"Jawab di {INBOX_URL}",
                )
                self.assertFallbackFits(
                    R._daily_texts(
                        LARGEST_COUNT, MANY_LONG_KEYWORDS, overdue, INBOX_URL
                    ),
                    MANY_LONG_KEYWORDS[0],
                )

    def test_escalation_texts(self):
        R = self.Reminder
        self.assertLongestFits(
            R._escalation_texts(LARGEST_COUNT, [LONGEST_KEYWORD], [LONG_OFFICER_NAME]),
            f"petugas {LONG_OFFICER_NAME}",
            "belum dijawab hingga batas waktu",
        )
        # Two officers with long names: without their names.
        self.assertFallbackFits(
            R._escalation_texts(
                LARGEST_COUNT, [LONGEST_KEYWORD], [LONG_OFFICER_NAME] * 2
            ),
            LONG_OFFICER_NAME,
        )
        # Many keywords too: the count alone.
        self.assertFallbackFits(
            R._escalation_texts(
                LARGEST_COUNT, MANY_LONG_KEYWORDS, [LONG_OFFICER_NAME] * 2
            ),
            LONG_OFFICER_NAME,
            MANY_LONG_KEYWORDS[0],
        )

    def test_reminder_sms_sent_by_the_crons(self):
        """The crons send these texts, in the officer's language."""
        self.sms_at("2026-12-03 09:10", f"{LONGEST_KEYWORD.lower()} sekolah rusak")
        self.run_cron("2026-12-03 10:00", "_cron_send_hourly_reminders")
        hourly = self.reminders_of(self.officer_health, "hourly")
        self.assertEqual(
            hourly.body,
            f"SMS Center: 1 SMS baru ke {LONGEST_KEYWORD} dalam 1 jam terakhir. "
            f"Jawab di {INBOX_URL}",
        )
        self.run_cron("2026-12-03 16:00", "_cron_send_daily_reminders")
        daily = self.reminders_of(self.officer_health, "daily")
        self.assertEqual(
            daily.body,
            f"SMS Center: 1 SMS ke {LONGEST_KEYWORD} belum dijawab, 1 lewat batas "
            f"waktu. Jawab di {INBOX_URL}",
        )
        for reminder in hourly | daily:
            self.assertOneSms(reminder.body)
            self.assertEqual(self.sms_for(reminder).body, reminder.body)

    def test_escalation_sms_sent_by_the_cron(self):
        self.set_params(escalate_to_superior="True")
        self.user_health.name = LONG_OFFICER_NAME
        self.officer_health.superior_id = self.officer_successor
        self.sms_at("2026-12-03 09:10", f"{LONGEST_KEYWORD} sekolah rusak")
        self.run_cron("2026-12-03 12:15", "_cron_escalate_overdue")
        escalation = self.reminders_of(self.officer_successor, "escalation")
        self.assertEqual(
            escalation.body,
            f"SMS Center: 1 SMS ke {LONGEST_KEYWORD} (petugas {LONG_OFFICER_NAME}) "
            "belum dijawab hingga batas waktu.",
        )
        self.assertOneSms(escalation.body)

    # ------------------------------------------------------------------
    # Test SMS of a gateway (administrators)
    # ------------------------------------------------------------------

    def test_gateway_test_sms(self):
        body = (
            self.env["sms_center.gateway.test"]
            .with_context(lang="id_ID")
            .default_get(["body"])["body"]
        )
        self.assertEqual(body, "Pesan uji SMS Center. Terima kasih.")
        self.assertOneSms(body)
