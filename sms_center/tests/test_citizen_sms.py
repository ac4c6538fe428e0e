"""The citizen's side by SMS (R17): receipt, CEK, INFO, reserved words."""

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import freeze_time, tagged
from odoo.tools import mute_logger

from ..lib import gsm, ticket_reference
from .common import SmsCenterCase
from .test_reminders import utc
from .test_sms_texts import BASE_URL, KEYWORD_PAGE, LONGEST_KEYWORD, MANY_LONG_KEYWORDS

KEYWORD_LOGGER = "odoo.addons.sms_center.models.sms_center_keyword"


class CitizenSmsCase(SmsCenterCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ICP = cls.env["ir.config_parameter"].sudo()
        # The defaults of a new database (data file), whatever the demo did.
        cls.ICP.set_param("sms_center.receipt_enabled", "True")
        cls.ICP.set_param("sms_center.info_words", "BANTUAN")
        cls.ICP.set_param("sms_center.status_words", False)
        cls.ICP.set_param("sms_center.citizen_lang", "id_ID")
        cls.ICP.set_param("sms_center.auto_reply_daily_limit", "10")
        cls.ICP.set_param("sms_center.deadline_mode", "clock")
        cls.ICP.set_param("sms_center.deadline_hours", "3")
        cls.ICP.set_param(
            "sms_center.public_keywords_url", "https://sms.example.go.id/k"
        )
        cls.other = "085711112222"
        cls.other_e164 = "+6285711112222"
        # Messages to users are checked in English; the SMS to citizens in
        # the citizen language setting (Indonesian by default).
        (cls.user_admin | cls.user_secretariat | cls.user_health).lang = "en_US"

    def english(self):
        self.ICP.set_param("sms_center.citizen_lang", "en_US")

    def sms_to(self, number):
        return self.env["sms.sms"].sudo().search([("number", "=", number)], order="id")

    def assert_one_sms(self, body):
        self.assertTrue(body)
        self.assertEqual(gsm.measure(body).parts, 1, body)


@tagged("post_install", "-at_install")
class TestReceipt(CitizenSmsCase):
    def test_receipt_once_per_ticket_none_for_appended_sms(self):
        message = self.receive("TDINKES obat di puskesmas Bawang habis")
        ticket = message.ticket_id
        reference = ticket.sms_reference
        self.assertTrue(ticket_reference.is_reference(reference))
        self.assertEqual(message.auto_reply_kind, "receipt")
        body = message.auto_reply_body
        self.assert_one_sms(body)
        self.assertTrue(body.startswith("Test Health Unit: "), body)
        self.assertIn(f"#{reference}", body)
        self.assertIn(f"CEK {reference}", body)
        self.assertIn("Jawaban paling lambat pukul ", body)
        self.assertNotIn("tiket", body.lower(), "never 'ticket' in an SMS")
        [sms] = self.sms_to(self.citizen_e164)
        self.assertEqual(sms.body, body)
        self.assertEqual(message.sms_uuid, sms.uuid)
        self.assertEqual(message.sms_state, "pending")
        # The same citizen adds to the open ticket: no second receipt.
        follow_up = self.receive("TDINKES maaf, tepatnya di desa Mantrianom")
        self.assertEqual(follow_up.state, "appended")
        self.assertEqual(follow_up.ticket_id, ticket)
        self.assertFalse(follow_up.auto_reply_body)
        self.assertFalse(follow_up.auto_reply_kind)
        self.assertFalse(follow_up.auto_reply_skipped)
        self.assertEqual(len(self.sms_to(self.citizen_e164)), 1)
        # Another keyword is another ticket: its own receipt and code.
        other = self.receive("TJALAN jalan desa rusak")
        self.assertNotEqual(other.ticket_id.sms_reference, reference)
        self.assertIn(f"#{other.ticket_id.sms_reference}", other.auto_reply_body)
        self.assertTrue(other.auto_reply_body.startswith("Test Roads Unit: "))
        self.assertEqual(len(self.sms_to(self.citizen_e164)), 2)

    def test_receipt_is_optional(self):
        self.ICP.set_param("sms_center.receipt_enabled", False)
        message = self.receive("TDINKES obat habis")
        self.assertEqual(message.state, "routed")
        self.assertTrue(message.ticket_id.sms_reference, "the code exists anyway")
        self.assertFalse(message.auto_reply_body)
        self.assertFalse(message.auto_reply_skipped)
        self.assertFalse(self.sms_to(self.citizen_e164))

    def test_receipt_in_english_from_the_template_of_that_language(self):
        self.english()
        with freeze_time(utc("2026-12-03 12:20")):
            message = self.receive("TDINKES obat habis")
        reference = message.ticket_id.sms_reference
        self.assertEqual(
            message.auto_reply_body,
            f"Test Health Unit: your SMS was received with code #{reference}. "
            f"Answer by 3:20 PM today. Status: send CEK {reference}",
        )

    def test_deadline_in_jakarta_time_on_both_sides_of_midnight(self):
        cases = [
            # (received, Jakarta time, expected deadline wording)
            ("2026-12-03 12:20", "Jawaban paling lambat pukul 15.20."),
            # 20:30 WIB is 13:30 UTC: same day on both clocks.
            ("2026-12-03 20:30", "Jawaban paling lambat pukul 23.30."),
            # 22:30 WIB: the deadline is after midnight in Jakarta.
            ("2026-12-03 22:30", "Jawaban paling lambat besok pukul 01.30."),
            # 00:30 WIB on the 4th is still the 3rd in UTC: same local day.
            ("2026-12-04 00:30", "Jawaban paling lambat pukul 03.30."),
        ]
        for index, (local, expected) in enumerate(cases):
            with self.subTest(received=local), freeze_time(utc(local)):
                message = self.receive(
                    "TJALAN lampu jalan mati", sender=f"08129000{index:04d}"
                )
                self.assertIn(expected, message.auto_reply_body)
                self.assert_one_sms(message.auto_reply_body)

    def test_deadline_over_a_weekend_with_a_working_calendar(self):
        office = self.env["resource.calendar"].create(
            {
                "name": "Regency office hours",
                "tz": "UTC",
                "attendance_ids": [(5, 0, 0)]
                + [
                    (
                        0,
                        0,
                        {
                            "name": f"Day {day}",
                            "dayofweek": str(day),
                            "hour_from": 8,
                            "hour_to": 16,
                            "day_period": "morning",
                        },
                    )
                    for day in range(5)
                ],
            }
        )
        self.ICP.set_param("sms_center.deadline_mode", "calendar")
        self.ICP.set_param("sms_center.deadline_calendar_id", str(office.id))
        # Friday 15:00 WIB: 1 hour on Friday, 2 hours on Monday.
        with freeze_time(utc("2026-12-04 15:00")):
            friday = self.receive("TJALAN jembatan putus", sender="081290001111")
        self.assertEqual(friday.ticket_id.sms_deadline, utc("2026-12-07 10:00"))
        self.assertIn(
            "Jawaban paling lambat Senin 7 Des pukul 10.00.", friday.auto_reply_body
        )
        # Thursday 14:00 WIB: Friday 09:00 is "tomorrow".
        with freeze_time(utc("2026-12-03 14:00")):
            thursday = self.receive("TJALAN jembatan putus", sender="081290002222")
        self.assertIn(
            "Jawaban paling lambat besok pukul 09.00.", thursday.auto_reply_body
        )
        # Saturday night: Monday 11:00.
        with freeze_time(utc("2026-12-05 23:10")):
            saturday = self.receive("TJALAN jembatan putus", sender="081290003333")
        self.assertIn("Senin 7 Des pukul 11.00", saturday.auto_reply_body)

    def test_unicode_and_long_unit_names_fit_one_gsm_sms(self):
        for index, name in enumerate(
            [
                "Dinas Pariwisata – Kebudayaan ‘Dieng’ 🌄",
                "Dinas Pekerjaan Umum dan Penataan Ruang, Perumahan Rakyat dan "
                "Kawasan Permukiman Kabupaten Banjarnegara",
                "ꦧꦚ꧀ꦗꦂꦤꦒꦫ",
            ]
        ):
            with self.subTest(unit=name):
                self.team_roads.name = name
                message = self.receive(
                    "TJALAN jalan rusak", sender=f"08129100{index:04d}"
                )
                body = message.auto_reply_body
                self.assert_one_sms(body)
                self.assertTrue(gsm.is_gsm7(body), body)
                reference = message.ticket_id.sms_reference
                self.assertIn(f"#{reference}", body)
                self.assertTrue(body.endswith(f"CEK {reference}"))
        # The Unicode name, turned into GSM-7, still reads the same.
        first = self.Message.search(
            [("sender_e164", "=", "+6281291000000")], limit=1
        ).auto_reply_body
        self.assertTrue(first.startswith("Dinas Pariwisata - Kebudayaan 'Dieng': "))
        # Too long: cut at a word, with "...".
        second = self.Message.search(
            [("sender_e164", "=", "+6281291000001")], limit=1
        ).auto_reply_body
        self.assertTrue(second.startswith("Dinas Pekerjaan Umum"), second)
        self.assertIn("...: SMS Anda diterima", second)
        # No GSM-7 equivalent at all: the keyword stands for the unit.
        third = self.Message.search(
            [("sender_e164", "=", "+6281291000002")], limit=1
        ).auto_reply_body
        self.assertTrue(third.startswith("TJALAN: "), third)

    def test_secretariat_routing_by_hand_sends_the_receipt(self):
        message = self.receive("TOLONG jalan di desa kami rusak")
        self.assertEqual(message.auto_reply_kind, "unknown_keyword")
        self.env["sms_center.message.route"].with_user(self.user_secretariat).create(
            {"message_ids": [(6, 0, message.ids)], "keyword_id": self.kw_roads.id}
        ).action_route()
        self.assertEqual(message.auto_reply_kind, "receipt")
        self.assertIn(f"#{message.ticket_id.sms_reference}", message.auto_reply_body)
        # Both automatic SMS stay in the message's history.
        self.assertEqual(len(self.sms_to(self.citizen_e164)), 2)

    def test_references_are_unique_short_and_unordered(self):
        self.ICP.set_param("sms_center.receipt_enabled", False)
        tickets = self.env["helpdesk.ticket"]
        for index in range(40):
            tickets |= self.receive(
                "TJALAN lubang", sender=f"08129200{index:04d}"
            ).ticket_id
        references = tickets.mapped("sms_reference")
        self.assertEqual(len(set(references)), 40)
        for reference in references:
            self.assertRegex(reference, r"^[ADGJMPTW][0-9]{3,}$")
        self.assertNotEqual(sorted(references), references)
        # A copy of a ticket is another ticket: another code.
        copy = tickets[0].copy()
        self.assertTrue(copy.sms_reference)
        self.assertNotEqual(copy.sms_reference, tickets[0].sms_reference)
        # Officers see the code; the search finds it typed with '#'.
        Ticket = self.env["helpdesk.ticket"].with_user(self.user_roads)
        for typed in (references[5], f"#{references[5].lower()}", references[5][1:]):
            found = Ticket.search([("sms_reference_typed", "ilike", typed)])
            self.assertIn(tickets[5], found, typed)
        self.assertEqual(
            Ticket.search([("sms_reference_typed", "ilike", f" #{references[5]}")]),
            tickets[5],
        )

    def test_existing_tickets_get_a_code_at_upgrade(self):
        ticket = self.receive("TJALAN lubang").ticket_id
        self.env.cr.execute(
            "UPDATE helpdesk_ticket SET sms_reference = NULL WHERE id = %s",
            [ticket.id],
        )
        ticket.invalidate_recordset(["sms_reference"])
        self.env["helpdesk.ticket"]._sms_center_init_references()
        self.assertTrue(ticket_reference.is_reference(ticket.sms_reference))


@tagged("post_install", "-at_install")
class TestStatusByCek(CitizenSmsCase):
    def answer(self, ticket, body):
        self.env["sms_center.reply.wizard"].with_user(ticket.user_id).create(
            {"ticket_id": ticket.id, "body": body}
        ).action_send()

    def test_cek_lists_the_three_latest_own_sms(self):
        self.ICP.set_param("sms_center.append_window_minutes", "0")
        with freeze_time(utc("2026-12-01 09:00")):
            oldest = self.receive("TJALAN satu").ticket_id
        with freeze_time(utc("2026-12-02 09:00")):
            second = self.receive("TDINKES dua").ticket_id
        with freeze_time(utc("2026-12-02 10:00")):
            self.answer(second, "Obat sudah dikirim ke puskesmas.")
        with freeze_time(utc("2026-12-03 09:00")):
            third = self.receive("TJALAN tiga").ticket_id
            fourth = self.receive("TSEHAT empat").ticket_id
            someone_else = self.receive("TJALAN lain", sender=self.other).ticket_id
        with freeze_time(utc("2026-12-03 10:00")):
            cek = self.receive("CEK")
        self.assertEqual(cek.state, "status")
        self.assertFalse(cek.ticket_id)
        self.assertFalse(cek.keyword_id)
        self.assertEqual(cek.auto_reply_kind, "status")
        body = cek.auto_reply_body
        self.assert_one_sms(body)
        self.assertTrue(body.startswith("SMS Anda: "), body)
        for ticket in (fourth, third, second):
            self.assertIn(f"#{ticket.sms_reference}", body)
        self.assertLess(
            body.index(fourth.sms_reference), body.index(second.sms_reference)
        )
        self.assertNotIn(oldest.sms_reference, body)
        self.assertNotIn(someone_else.sms_reference, body)
        self.assertIn("dijawab 2 Des", body)
        self.assertIn("menunggu jawaban", body)
        # Three units' names do not fit: the keywords stand for them.
        self.assertIn(f"#{fourth.sms_reference} TDINKES 3 Des: menunggu jawaban", body)
        # The receipt's SMS and the CEK answer went to the citizen only.
        self.assertEqual(self.sms_to(self.citizen_e164)[-1].body, body)

    def test_cek_list_shortens_to_fit(self):
        self.ICP.set_param("sms_center.append_window_minutes", "0")
        self.team_roads.name = "Dinas Pekerjaan Umum dan Penataan Ruang Kabupaten"
        self.team_health.name = "Dinas Kesehatan, Pengendalian Penduduk dan KB"
        for text in ("TJALAN a", "TDINKES b", "TJALAN c"):
            self.receive(text)
        body = self.receive("cek").auto_reply_body
        self.assert_one_sms(body)
        self.assertEqual(body.count("#"), 3)
        self.assertIn("TJALAN", body, "keywords stand for long unit names")

    def test_cek_reference_of_someone_else_gets_the_not_found_answer(self):
        own = self.receive("TJALAN jalan rusak").ticket_id
        foreign = self.receive("TJALAN jalan rusak", sender=self.other).ticket_id
        existing = set(
            self.env["helpdesk.ticket"]
            .with_context(active_test=False)
            .search([("sms_reference", "!=", False)])
            .mapped("sms_reference")
        )
        missing = next(
            ref for ref in (f"W{n:03d}" for n in range(1000)) if ref not in existing
        )
        other_reply = self.receive(f"CEK {foreign.sms_reference}").auto_reply_body
        missing_reply = self.receive(f"CEK {missing}").auto_reply_body
        self.assert_one_sms(other_reply)
        self.assertNotIn("Test Roads Unit", other_reply)
        # Identical but for the code the sender typed: nothing to enumerate.
        self.assertEqual(
            other_reply.replace(foreign.sms_reference, "<code>"),
            missing_reply.replace(missing, "<code>"),
        )
        self.assertIn("Tidak ada SMS dengan kode", other_reply)
        # The owner gets the status of the same code.
        own_reply = self.receive(
            f"CEK {own.sms_reference}", sender=self.citizen
        ).auto_reply_body
        self.assertIn(f"#{own.sms_reference} Test Roads Unit", own_reply)
        self.assertIn("menunggu jawaban, paling lambat", own_reply)
        foreign_owner = self.receive(
            f"CEK {foreign.sms_reference}", sender=self.other
        ).auto_reply_body
        self.assertIn(f"#{foreign.sms_reference}", foreign_owner)
        self.assertNotIn("Tidak ada SMS", foreign_owner)

    def test_cek_reference_answered_with_the_start_of_the_answer(self):
        ticket = self.receive("TDINKES obat habis").ticket_id
        answer = (
            "Terima kasih atas laporannya. Stok obat di Puskesmas Bawang sudah "
            "dikirim hari ini dari gudang farmasi kabupaten dan dapat diambil "
            "mulai besok pagi pukul 08.00 di loket apotek."
        )
        self.answer(ticket, answer)
        body = self.receive(f"cek {ticket.sms_reference}").auto_reply_body
        self.assert_one_sms(body)
        self.assertIn(f"#{ticket.sms_reference}", body)
        self.assertIn("dijawab", body)
        self.assertIn("Jawaban: Terima kasih", body)
        # Published at once (automatic publication): the question's page
        # follows the start of the answer, whole.
        self.assertEqual(ticket.sms_publication_state, "published")
        page = self.ICP.get_param("web.base.url") + ticket.sms_public_url
        self.assertTrue(body.endswith("... " + page), body)
        # Not published any more: the answer's start alone.
        ticket.with_user(self.user_secretariat).action_sms_unpublish()
        ticket.invalidate_recordset()
        self.assertFalse(ticket.sms_public_url)
        body = self.receive(f"cek {ticket.sms_reference}").auto_reply_body
        self.assert_one_sms(body)
        self.assertNotIn("http", body)
        self.assertIn("Jawaban: Terima kasih atas laporannya.", body)
        self.assertTrue(body.endswith("..."), "the start of a long answer")

    def test_tolerant_parsing_of_cek(self):
        ticket = self.receive("TJALAN jalan rusak").ticket_id
        reference = ticket.sms_reference
        replies = set()
        for text in (
            f"CEK {reference}",
            f"cek {reference.lower()}",
            f"  Cek: {reference}",
            f"CEK#{reference}",
            f"cek.#{reference.lower()}",
            f"CEK {reference[0]} {reference[1:]}",
            f"cek{reference.lower()}",
            f"CEK {reference} kapan dijawab?",
        ):
            with self.subTest(text=text):
                message = self.receive(text)
                self.assertEqual(message.state, "status")
                self.assertEqual(message.text, text, "stored exactly as received")
                replies.add(message.auto_reply_body)
        self.assertEqual(len(replies), 1, replies)
        self.assertIn(f"#{reference} Test Roads Unit", replies.pop())
        # Not a code after CEK: the list of the latest SMS.
        self.assertIn(f"#{reference}", self.receive("CEK tolong").auto_reply_body)

    def test_cek_without_any_sms(self):
        body = self.receive("CEK", sender="081377770001").auto_reply_body
        self.assertIn("Belum ada SMS dari nomor ponsel Anda", body)
        self.assertIn("INFO", body)
        self.assert_one_sms(body)

    def test_other_words_for_cek(self):
        settings = self.env["sms_center.settings"].with_user(self.user_admin)
        form = settings.create({"sms_center_status_words": "status, Cekstatus"})
        form.execute()
        ticket = self.receive("TJALAN jalan rusak").ticket_id
        for text in ("STATUS", "status " + ticket.sms_reference, "cekstatus"):
            with self.subTest(text=text):
                message = self.receive(text)
                self.assertEqual(message.state, "status")
                self.assertIn(f"#{ticket.sms_reference}", message.auto_reply_body)


@tagged("post_install", "-at_install")
class TestInfo(CitizenSmsCase):
    def test_info_and_bantuan(self):
        for text in ("INFO", "bantuan", "Info?", "  info: cara kirim sms"):
            with self.subTest(text=text):
                message = self.receive(text)
                self.assertEqual(message.state, "info")
                self.assertFalse(message.ticket_id)
                self.assertEqual(message.auto_reply_kind, "info")
                body = message.auto_reply_body
                self.assert_one_sms(body)
                self.assertIn("KATAKUNCI", body)
                self.assertIn("https://sms.example.go.id/k", body)
                self.assertIn("CEK", body)
                # A few keywords, in their order (sequence, name).
                first = self.Keyword.search([], limit=1).name
                self.assertIn(f"mis. {first}", body)

    def test_info_fits_with_long_keywords_and_address(self):
        self.ICP.set_param(
            "sms_center.public_keywords_url",
            "https://layanan-sms.banjarnegarakab.go.id/sms/keywords",
        )
        for index in range(8):
            self.Keyword.create(
                {
                    "name": f"AKWPANJANG{index:02d}X",
                    "team_id": self.team_roads.id,
                    "sequence": 1,
                }
            )
        body = self.receive("INFO").auto_reply_body
        self.assert_one_sms(body)
        self.assertIn("AKWPANJANG00X", body, "at least one keyword")
        self.assertIn("https://layanan-sms.banjarnegarakab.go.id/sms/keywords", body)


@tagged("post_install", "-at_install")
class TestReservedWords(CitizenSmsCase):
    def test_reserved_word_sms_stored_like_any_sms(self):
        message = self.receive("INFO")
        cek = self.receive("cek")
        # The secretariat sees them, with their own state; officers do not.
        Secretariat = self.Message.with_user(self.user_secretariat)
        self.assertEqual(
            Secretariat.search([("id", "in", (message | cek).ids)]), message | cek
        )
        self.assertEqual(
            set(
                Secretariat.search(
                    [
                        ("id", "in", (message | cek).ids),
                        ("state", "in", ("status", "info")),
                    ]
                ).mapped("state")
            ),
            {"status", "info"},
        )
        self.assertFalse(
            self.Message.with_user(self.user_health).search(
                [("id", "in", (message | cek).ids)]
            )
        )
        with self.assertRaises(UserError):
            message.with_user(self.user_admin).write({"text": "INFO edited"})
        # No ticket, so nothing to publish.
        self.assertFalse((message | cek).ticket_id)

    def test_no_answer_to_alphanumeric_senders_or_own_numbers(self):
        self.ICP.set_param("sms_center.center_numbers", self.other_e164)
        self.env.registry.clear_cache()
        rejected = self.receive("CEK", sender="TELKOMSEL")
        self.assertEqual(rejected.state, "rejected")
        self.assertFalse(rejected.auto_reply_body)
        own = self.receive("INFO", sender=self.other)
        self.assertEqual(own.state, "info")
        self.assertFalse(own.auto_reply_body)
        self.assertIn("own numbers", own.auto_reply_skipped)
        # Nor a receipt: the SMS becomes a ticket, silently.
        own_ticket = self.receive("TJALAN uji modem", sender=self.other)
        self.assertEqual(own_ticket.state, "routed")
        self.assertFalse(own_ticket.auto_reply_body)
        self.assertIn("own numbers", own_ticket.auto_reply_skipped)
        self.assertFalse(self.sms_for(own) | self.sms_for(own_ticket))

    def test_daily_limit_is_shared_with_every_automatic_reply(self):
        self.ICP.set_param("sms_center.auto_reply_daily_limit", "3")
        first = self.receive("TDINKES obat habis")  # receipt: 1
        info = self.receive("INFO")  # 2
        unknown = self.receive("HALO")  # 3
        cek = self.receive("CEK")
        another = self.receive("TJALAN jalan rusak")
        for message in (first, info, unknown):
            self.assertTrue(message.auto_reply_body)
        self.assertEqual(cek.state, "status")
        self.assertFalse(cek.auto_reply_body)
        self.assertIn("limit", cek.auto_reply_skipped)
        # Beyond the limit the SMS is still routed, without receipt.
        self.assertEqual(another.state, "routed")
        self.assertTrue(another.ticket_id.sms_reference)
        self.assertFalse(another.auto_reply_body)
        self.assertIn("limit", another.auto_reply_skipped)
        self.assertEqual(len(self.sms_to(self.citizen_e164)), 3)

    def test_keywords_and_aliases_cannot_be_reserved_words(self):
        Keyword = self.Keyword.with_user(self.user_admin)
        for name in ("CEK", "info", "Bantuan"):
            with self.subTest(name=name), self.assertRaises(ValidationError) as error:
                Keyword.create({"name": name, "team_id": self.team_roads.id})
            self.assertIn("reserved word", str(error.exception))
        with self.assertRaises(ValidationError):
            Keyword.create(
                {
                    "name": "TBARU",
                    "team_id": self.team_roads.id,
                    "alias_ids": [(0, 0, {"name": "cek"})],
                }
            )
        with self.assertRaises(ValidationError):
            self.kw_roads.with_user(self.user_admin).write(
                {"alias_ids": [(0, 0, {"name": "INFO"})]}
            )
        with self.assertRaises(ValidationError):
            self.kw_roads.with_user(self.user_admin).name = "bantuan"
        with self.assertRaises(ValidationError):
            self.kw_health.alias_ids.with_user(self.user_admin).name = "CEK"
        # An archived keyword with a (then free) name cannot come back once
        # the word is reserved.
        old = Keyword.create({"name": "TSTATUS", "team_id": self.team_roads.id})
        old.active = False
        self.ICP.set_param("sms_center.status_words", "TSTATUS")
        with self.assertRaises(ValidationError):
            old.active = True
        # Other changes of a keyword are not affected.
        self.kw_roads.with_user(self.user_admin).description = "Jalan dan jembatan"

    def test_settings_refuse_words_that_are_keywords(self):
        Settings = self.env["sms_center.settings"].with_user(self.user_admin)
        for status, info, message in (
            ("TJALAN", "", "Already a keyword or alias: TJALAN"),
            ("", "tsehat", "Already a keyword or alias: TSEHAT"),
            ("INFO", "", "at once"),
            ("", "STATUS, cek", "at once"),
            ("1X", "", "letters or digits"),
        ):
            with (
                self.subTest(status=status, info=info),
                self.assertRaises(ValidationError) as error,
            ):
                Settings.create(
                    {"sms_center_status_words": status, "sms_center_info_words": info}
                )
            self.assertIn(message, str(error.exception))
        self.assertFalse(self.ICP.get_param("sms_center.status_words"))

    def test_existing_collision_is_reported_and_keeps_working(self):
        legacy = self.Keyword.create(
            {
                "name": "TLAPOR",
                "team_id": self.team_roads.id,
                "officer_ids": [(6, 0, self.officer_roads.ids)],
            }
        )
        # An upgrade reserves a word an existing keyword already uses.
        self.ICP.set_param("sms_center.info_words", "BANTUAN, TLAPOR")
        with self.assertLogs(KEYWORD_LOGGER, "WARNING") as logs:
            reported = self.Keyword._report_reserved_word_collisions()
        self.assertEqual(reported, legacy)
        self.assertIn("TLAPOR", logs.output[0])
        activity = legacy.activity_ids.filtered(lambda a: a.user_id == self.user_admin)
        self.assertEqual(len(activity), 1)
        self.assertIn("TLAPOR", activity.summary)
        self.assertIn("TLAPOR", legacy.reserved_word_warning)
        self.assertFalse(self.kw_roads.reserved_word_warning)
        # Reported once per upgrade, not one more to-do each time.
        with mute_logger(KEYWORD_LOGGER):
            self.Keyword._report_reserved_word_collisions()
        self.assertEqual(
            len(legacy.activity_ids.filtered(lambda a: a.user_id == self.user_admin)),
            1,
        )
        # The keyword keeps its SMS: nothing silently broken.
        message = self.receive("TLAPOR jalan rusak")
        self.assertEqual(message.state, "routed")
        self.assertEqual(message.keyword_id, legacy)
        self.assertEqual(self.receive("BANTUAN").state, "info")
        # The settings can still be saved with the word in force (the clash
        # is reported, not a reason to block every other setting).
        form = self.env["sms_center.settings"].with_user(self.user_admin).create({})
        self.assertEqual(form.sms_center_info_words, "BANTUAN, TLAPOR")
        form.sms_center_auto_reply_daily_limit = 5
        form.execute()
        self.assertEqual(self.ICP.get_param("sms_center.auto_reply_daily_limit"), "5")
        # Renamed, the word becomes the reserved word it now is.
        legacy.name = "TLAPORAN"
        self.assertFalse(legacy.reserved_word_warning)
        self.assertEqual(self.receive("TLAPOR").state, "info")


@tagged("post_install", "-at_install")
class TestCitizenTemplates(CitizenSmsCase):
    def setUp(self):
        super().setUp()
        self.receipt = self.env.ref("sms_center.citizen_template_receipt").with_user(
            self.user_admin
        )

    def test_every_default_text_fits_one_sms_in_both_languages(self):
        templates = self.env["sms_center.citizen.template"].search([])
        self.assertEqual(
            set(templates.mapped("kind")),
            {"receipt", "status", "status_not_found", "status_none", "info"},
        )
        for lang in ("en_US", "id_ID"):
            for template in templates.with_context(lang=lang):
                with self.subTest(lang=lang, kind=template.kind):
                    self.assertTrue(template._render_sample(), template.body)
                    self.assertEqual(gsm.measure(template.preview).parts, 1)
        indonesian = self.receipt.with_context(lang="id_ID").body
        self.assertIn("Jawaban paling lambat {deadline}", indonesian)

    def test_administrator_rewords_the_receipt_per_language(self):
        self.receipt.with_context(lang="id_ID").body = (
            "SMS Center Banjarnegara: SMS Anda untuk {unit} diterima, kode "
            "{reference}. Dijawab paling lambat {deadline}."
        )
        self.assertIn("{unit}", self.receipt.with_context(lang="en_US").body)
        message = self.receive("TDINKES obat habis")
        self.assertTrue(
            message.auto_reply_body.startswith(
                "SMS Center Banjarnegara: SMS Anda untuk Test Health Unit diterima"
            )
        )
        self.assertIn(message.ticket_id.sms_reference, message.auto_reply_body)

    def test_bad_texts_are_refused_with_a_clear_message(self):
        for body, expected in (
            ("Kode {reference}, {nama}", "Unknown placeholder(s) {nama}"),
            ("{unit.__class__} {reference}", "Unknown placeholder"),
            ("SMS Anda diterima {unit}.", "must contain {reference}"),
            ("Kode {reference}. " + "Terima kasih. " * 12, "does not fit one SMS"),
            (
                "Kode {reference}, jawaban “segera” {deadline} untuk {unit}, "
                "terima kasih",
                "need Unicode",
            ),
        ):
            with self.subTest(body=body), self.assertRaises(ValidationError) as error:
                self.receipt.body = body
            self.assertIn(expected, str(error.exception))

    def test_only_administrators_edit_the_texts(self):
        with self.assertRaises(AccessError):
            self.receipt.with_user(self.user_secretariat).body = "x {reference}"
        with self.assertRaises(AccessError):
            self.receipt.with_user(self.user_admin).unlink()


@tagged("post_install", "-at_install")
class TestCitizenTextsLongest(CitizenSmsCase):
    """The citizen's SMS with the longest values of test_sms_texts: 20-letter
    keywords, a long regency domain, long unit names, every weekday."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ICP.set_param("web.base.url", BASE_URL)
        cls.ICP.set_param("sms_center.public_keywords_url", KEYWORD_PAGE)
        cls.ICP.set_param("sms_center.append_window_minutes", "0")
        cls.team_long = cls.env["helpdesk.ticket.team"].create(
            {"name": "Dinas Pendidikan, Pemuda, Olahraga dan Kebudayaan Kabupaten"}
        )
        cls.keywords = cls.Keyword.create(
            [
                {
                    "name": name,
                    "team_id": cls.team_long.id,
                    "sequence": 0,
                    "officer_ids": [(6, 0, cls.officer_health.ids)],
                }
                for name in (LONGEST_KEYWORD, *MANY_LONG_KEYWORDS[:2])
            ]
        )

    def test_receipt_info_and_cek_fit_one_gsm_sms(self):
        bodies = {}
        for day in range(7):
            # Every weekday and its longest deadline wording.
            with freeze_time(utc(f"2026-12-0{day + 1} 21:30")):
                message = self.receive(
                    f"{self.keywords[day % 3].name} jalan sekolah rusak",
                    sender=f"0812933{day:05d}",
                )
            bodies[f"receipt {day}"] = message.auto_reply_body
        info = self.receive("INFO").auto_reply_body
        self.assertIn(KEYWORD_PAGE, info)
        # The first keyword (sequence, name): 20 letters long.
        self.assertIn(self.Keyword.search([], limit=1).name, info)
        self.assertEqual(len(self.Keyword.search([], limit=1).name), 20)
        bodies["info"] = info
        tickets = [
            self.receive(f"{keyword.name} pertanyaan {n}").ticket_id
            for n, keyword in enumerate(self.keywords)
        ]
        self.env["sms_center.reply.wizard"].with_user(self.user_health).create(
            {"ticket_id": tickets[0].id, "body": "Terima kasih. " * 30}
        ).action_send()
        bodies["cek"] = self.receive("CEK").auto_reply_body
        for ticket in tickets:
            self.assertIn(f"#{ticket.sms_reference}", bodies["cek"])
        bodies["cek one"] = self.receive(
            f"CEK {tickets[0].sms_reference}"
        ).auto_reply_body
        self.assertIn("Jawaban: Terima kasih.", bodies["cek one"])
        bodies["not found"] = self.receive("CEK W99999").auto_reply_body
        bodies["none"] = self.receive("CEK", sender="081377770002").auto_reply_body
        for name, body in bodies.items():
            with self.subTest(sms=name):
                self.assert_one_sms(body)
                self.assertTrue(gsm.is_gsm7(body), body)
                self.assertNotIn("tiket", body.lower())
