from datetime import timedelta

from odoo import fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, freeze_time, tagged

from ..lib import masking
from ..models import sms_center_publication
from ..models.sms_center_publication import PublicFilter
from .common import SmsCenterCase


class PublicationCase(SmsCenterCase):
    """Answer SMS as an officer and read what the public reader returns."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Reader = cls.env["sms_center.publication"]
        cls.ICP = cls.env["ir.config_parameter"].sudo()

    def setUp(self):
        super().setUp()
        sms_center_publication._stats_cache.clear()

    def set_policy(self, mode="auto", delay=0):
        self.ICP.set_param("sms_center.publication_mode", mode)
        self.ICP.set_param("sms_center.publication_delay_minutes", str(delay))

    def answer(self, ticket, body, user=None):
        user = user or ticket.user_id
        self.env["sms_center.reply.wizard"].with_user(user).create(
            {"ticket_id": ticket.id, "body": body}
        ).action_send()
        return ticket.sms_reply_ids.sorted("id")[-1:]

    def ask_and_answer(
        self, text, answer="Terima kasih, segera kami tindak lanjuti.", sender=None
    ):
        message = self.receive(text, sender=sender or "081377770001")
        self.answer(message.ticket_id, answer)
        return message.ticket_id

    def public_ids(self, **filters):
        public_filter = PublicFilter(**filters)
        return self.Reader._ranked_ids(public_filter, 1000)

    def public_item(self, ticket):
        return self.Reader._published_one(ticket.id)

    def search(self, words):
        return self.public_ids(terms=tuple(masking.search_terms(words)))


@tagged("post_install", "-at_install")
class TestPublicationRules(PublicationCase):
    def test_answered_sms_is_published_at_once_by_default(self):
        message = self.receive("TDINKES obat di puskesmas habis", sender="081377770001")
        ticket = message.ticket_id
        self.assertEqual(ticket.sms_publication_state, "pending")
        self.assertNotIn(ticket.id, self.public_ids())
        self.answer(ticket, "Stok obat dikirim besok pagi.")
        self.assertEqual(ticket.sms_publication_state, "published")
        self.assertTrue(ticket.sms_published_at)
        item = self.public_item(ticket)
        self.assertEqual(item["question"], "obat di puskesmas habis")
        self.assertEqual(item["unit"], "Test Health Unit")
        self.assertEqual(item["sender"], "0813****001")
        self.assertEqual(
            [a["text"] for a in item["answers"]], ["Stok obat dikirim besok pagi."]
        )
        self.assertEqual(item["received_at"], ticket.sms_received_at)
        self.assertEqual(item["answered_at"], ticket.sms_first_answer_at)
        self.assertTrue(
            item["path"].startswith("/sms-masyarakat/obat-di-puskesmas-habis-")
        )
        # Nothing but the published values: no officer, no number, no partner.
        self.assertFalse(
            {
                "user_id",
                "partner_id",
                "partner_name",
                "description",
                "notes",
                "author_id",
            }
            & set(item)
        )

    def test_what_is_never_published(self):
        unanswered = self.receive(
            "TDINKES belum dijawab qxunans", sender="081377770002"
        )
        spam = self.receive("TDINKES iklan qxspam", sender="081377770003")
        not_substantive = self.receive("TJALAN tes qxnotsub", sender="081377770004")
        excluded = self.receive("TJALAN nama saya qxexcl", sender="081377770005")
        for message, state in (
            (spam, "spam"),
            (not_substantive, "not_substantive"),
            (excluded, "excluded"),
        ):
            message.with_user(self.user_secretariat).write(
                {"moderation_state": state, "moderation_reason": "Tes"}
            )
            self.answer(message.ticket_id, "Jawaban.")
            self.assertEqual(message.ticket_id.sms_publication_state, "excluded")
        unknown = self.receive("HALO siapa qxunknown", sender="081377770006")
        alphanumeric = self.receive("TDINKES promo qxalpha", sender="TELKOMSEL")
        self.assertFalse(unknown.ticket_id)
        self.assertFalse(alphanumeric.ticket_id)
        # A helpdesk ticket that did not come from an SMS.
        other = self.env["helpdesk.ticket"].create(
            {"name": "Printer qxother", "description": "Printer qxother"}
        )
        self.assertFalse(other.sms_publication_state)
        public = self.public_ids()
        for ticket in (
            unanswered.ticket_id,
            spam.ticket_id,
            not_substantive.ticket_id,
            excluded.ticket_id,
            other,
        ):
            self.assertNotIn(ticket.id, public)
            self.assertIsNone(self.public_item(ticket))
        # Their texts cannot be found by searching either.
        for word in ("qxunans", "qxspam", "qxnotsub", "qxexcl", "qxunknown", "qxalpha"):
            self.assertFalse(self.search(word), word)
        self.assertFalse(self.search("qxother"))

    def test_moderation_takes_a_published_sms_off_and_back(self):
        ticket = self.ask_and_answer("TDINKES jalan ke puskesmas berlubang")
        self.assertIn(ticket.id, self.public_ids())
        wizard = (
            self.env["sms_center.message.moderate"]
            .with_user(self.user_secretariat)
            .with_context(
                **ticket.with_user(
                    self.user_secretariat
                ).action_sms_exclude_publication()["context"]
            )
            .create({"reason": "Menyebut nama warga"})
        )
        self.assertEqual(wizard.moderation_state, "excluded")
        wizard.action_apply()
        self.assertEqual(ticket.sms_publication_state, "excluded")
        self.assertTrue(ticket.sms_publication_excluded)
        self.assertNotIn(ticket.id, self.public_ids())
        ticket.sms_message_ids.with_user(
            self.user_secretariat
        ).action_restore_moderation()
        self.assertEqual(ticket.sms_publication_state, "published")
        self.assertIn(ticket.id, self.public_ids())

    def test_archived_ticket_is_not_shown(self):
        ticket = self.ask_and_answer("TDINKES lampu puskesmas mati")
        ticket.active = False
        self.assertNotIn(ticket.id, self.public_ids())

    def test_follow_up_sms_show_as_one_question_and_answers_in_order(self):
        first = self.receive("TDINKES ambulans desa rusak", sender="081377770007")
        self.receive("TDINKES mohon segera dibantu", sender="081377770007")
        ticket = first.ticket_id
        self.assertEqual(len(ticket.sms_message_ids), 2)
        self.answer(ticket, "Ambulans cadangan dikirim hari ini.")
        self.answer(ticket, "Ambulans sudah diperbaiki.")
        item = self.public_item(ticket)
        self.assertEqual(item["question"], "ambulans desa rusak\nmohon segera dibantu")
        self.assertEqual(
            [answer["text"] for answer in item["answers"]],
            ["Ambulans cadangan dikirim hari ini.", "Ambulans sudah diperbaiki."],
        )

    def test_unpublish_is_immediate_and_logged(self):
        ticket = self.ask_and_answer("TJALAN jembatan retak")
        ticket.with_user(self.user_secretariat).action_sms_unpublish()
        self.assertEqual(ticket.sms_publication_state, "unpublished")
        self.assertFalse(ticket.sms_published_at)
        self.assertNotIn(ticket.id, self.public_ids())
        notes = ticket.message_ids.mapped("body")
        self.assertTrue(
            any(
                "Unpublished from the website by Secretariat Member" in n for n in notes
            )
        )
        # A later answer does not publish it again behind the secretariat's back.
        self.answer(ticket, "Perbaikan minggu depan.")
        self.assertEqual(ticket.sms_publication_state, "unpublished")
        ticket.with_user(self.user_secretariat).action_sms_publish()
        self.assertEqual(ticket.sms_publication_state, "published")
        self.assertIn(ticket.id, self.public_ids())

    def test_only_the_secretariat_decides(self):
        ticket = self.ask_and_answer("TDINKES vaksin habis")
        officer_ticket = ticket.with_user(self.user_health)
        with self.assertRaises(AccessError):
            officer_ticket.action_sms_unpublish()
        with self.assertRaises(AccessError):
            officer_ticket.write({"sms_publication_state": "unpublished"})
        with self.assertRaises(AccessError):
            officer_ticket.write({"sms_question_wording": "lain"})
        with self.assertRaises(AccessError):
            officer_ticket.action_sms_edit_wording()
        with self.assertRaises(AccessError):
            self.env["sms_center.publication.wording"].with_user(
                self.user_health
            ).create({"ticket_id": ticket.id})
        # The officer still works their ticket.
        officer_ticket.write(
            {"category_id": self.env.ref("sms_center.category_question").id}
        )

    def test_tickets_older_than_publication_get_their_state(self):
        published = self.ask_and_answer("TDINKES lama dijawab")
        pending = self.receive("TDINKES lama belum", sender="081377770091").ticket_id
        excluded = self.ask_and_answer("TDINKES lama spam", sender="081377770092")
        excluded.sms_message_ids.write(
            {"moderation_state": "spam", "moderation_reason": "Iklan"}
        )
        tickets = published | pending | excluded
        self.env.flush_all()
        # As in a database where the center ran before publication existed.
        self.env.cr.execute(
            """UPDATE helpdesk_ticket SET sms_publication_state = NULL,
                      sms_published_at = NULL WHERE id = ANY(%s)""",
            [tickets.ids],
        )
        tickets.invalidate_recordset()
        self.env["helpdesk.ticket"]._sms_publication_init_states()
        self.assertEqual(
            tickets.mapped("sms_publication_state"),
            ["published", "pending", "excluded"],
        )
        self.assertEqual(published.sms_published_at, published.sms_first_answer_at)
        self.assertIn(published.id, self.public_ids())

    def test_unanswered_or_excluded_cannot_be_published_by_hand(self):
        message = self.receive("TDINKES belum dijawab", sender="081377770008")
        with self.assertRaises(UserError):
            message.ticket_id.with_user(self.user_secretariat).action_sms_publish()


@tagged("post_install", "-at_install")
class TestPublicationPolicy(PublicationCase):
    def test_approval_mode_queue(self):
        self.set_policy("approval")
        tickets = self.ask_and_answer("TDINKES antre lama") | self.ask_and_answer(
            "TJALAN jalan licin", sender="081377770011"
        )
        self.assertEqual(set(tickets.mapped("sms_publication_state")), {"to_approve"})
        self.assertFalse(set(tickets.ids) & set(self.public_ids()))
        queue = (
            self.env["helpdesk.ticket"]
            .with_user(self.user_secretariat)
            .search(
                [
                    ("sms_publication_state", "=", "to_approve"),
                    ("id", "in", tickets.ids),
                ]
            )
        )
        self.assertEqual(queue, tickets)
        with self.assertRaises(AccessError):
            tickets.with_user(self.user_health).action_sms_publish()
        # Bulk approval from the queue.
        queue.action_sms_publish()
        self.assertEqual(set(tickets.mapped("sms_publication_state")), {"published"})
        self.assertTrue(set(tickets.ids) <= set(self.public_ids()))

    def test_approval_mode_exclude_with_a_reason(self):
        self.set_policy("approval")
        ticket = self.ask_and_answer("TDINKES dokter kasar, namanya dr. X")
        action = ticket.with_user(
            self.user_secretariat
        ).action_sms_exclude_publication()
        form = Form(
            self.env[action["res_model"]]
            .with_user(self.user_secretariat)
            .with_context(**action["context"])
        )
        form.reason = "Menyebut nama orang"
        form.save().action_apply()
        self.assertEqual(ticket.sms_publication_state, "excluded")
        self.assertEqual(
            ticket.sms_message_ids.moderation_reason, "Menyebut nama orang"
        )
        self.assertNotIn(ticket.id, self.public_ids())

    def test_delay_before_automatic_publication(self):
        self.set_policy("auto", delay=30)
        cron = self.env.ref("sms_center.ir_cron_sms_publication")
        with freeze_time("2026-03-02 03:00:00"):
            ticket = self.ask_and_answer("TJALAN pohon tumbang")
        self.assertEqual(ticket.sms_publication_state, "scheduled")
        self.assertEqual(
            ticket.sms_publish_after, fields.Datetime.to_datetime("2026-03-02 03:30:00")
        )
        self.assertNotIn(ticket.id, self.public_ids())
        trigger = self.env["ir.cron.trigger"].search(
            [("cron_id", "=", cron.id)], order="id desc", limit=1
        )
        self.assertEqual(trigger.call_at, ticket.sms_publish_after)
        Ticket = self.env["helpdesk.ticket"]
        with freeze_time("2026-03-02 03:29:00"):
            self.assertFalse(Ticket._cron_sms_publish_scheduled())
        self.assertEqual(ticket.sms_publication_state, "scheduled")
        # The secretariat withdraws a wrong answer before it goes out.
        other = self.ask_and_answer("TJALAN jalan banjir", sender="081377770012")
        other.with_user(self.user_secretariat).action_sms_unpublish()
        with freeze_time(fields.Datetime.now() + timedelta(days=1)):
            published = Ticket._cron_sms_publish_scheduled()
        self.assertIn(ticket, published)
        self.assertNotIn(other, published)
        self.assertEqual(ticket.sms_publication_state, "published")
        self.assertEqual(other.sms_publication_state, "unpublished")
        self.assertIn(ticket.id, self.public_ids())

    def test_scheduled_sms_join_the_queue_when_the_mode_changes(self):
        self.set_policy("auto", delay=60)
        ticket = self.ask_and_answer("TJALAN trotoar rusak")
        self.assertEqual(ticket.sms_publication_state, "scheduled")
        self.set_policy("approval", delay=60)
        with freeze_time(fields.Datetime.now() + timedelta(hours=2)):
            self.env["helpdesk.ticket"]._cron_sms_publish_scheduled()
        self.assertEqual(ticket.sms_publication_state, "to_approve")

    def save_settings_as_admin(self, **values):
        Settings = self.env["sms_center.settings"].with_user(self.user_admin)
        with Form(Settings) as form:
            for name, value in values.items():
                setattr(form, name, value)
        form.record.execute()
        return Settings.create({})

    def test_policy_from_the_settings_page(self):
        reopened = self.save_settings_as_admin(
            sms_center_publication_mode="approval",
            sms_center_publication_delay_minutes=15,
        )
        self.assertEqual(reopened.sms_center_publication_mode, "approval")
        self.assertEqual(reopened.sms_center_publication_delay_minutes, 15)
        Ticket = self.env["helpdesk.ticket"]
        self.assertEqual(Ticket._sms_publication_policy(), ("approval", 15))
        ticket = self.ask_and_answer("TDINKES lewat pengaturan")
        self.assertEqual(ticket.sms_publication_state, "to_approve")
        # A delay of 0 is a delay of 0 (issue 16), not "unset".
        reopened = self.save_settings_as_admin(
            sms_center_publication_mode="auto",
            sms_center_publication_delay_minutes=0,
        )
        self.assertEqual(reopened.sms_center_publication_delay_minutes, 0)
        self.assertEqual(
            self.ICP.get_param("sms_center.publication_delay_minutes"), "0"
        )
        ticket = self.ask_and_answer("TDINKES tanpa jeda", sender="081377770013")
        self.assertEqual(ticket.sms_publication_state, "published")
        with self.assertRaises(ValidationError):
            self.save_settings_as_admin(sms_center_publication_delay_minutes=-5)
        # Defaults, and a hand-edited malformed value, read as the defaults.
        self.ICP.set_param("sms_center.publication_mode", False)
        self.ICP.set_param("sms_center.publication_delay_minutes", "nonsense")
        self.assertEqual(Ticket._sms_publication_policy(), ("auto", 0))


@tagged("post_install", "-at_install")
class TestPublicationMasking(PublicationCase):
    QUESTION = (
        "TDINKES NIK saya 3304011234560012, hp 0812-3456-7890, email budi.s@gmail.com, "
        "rekening BRI 1234567890123. Kartu BPJS belum aktif"
    )

    def test_personal_data_is_masked_in_question_and_answers(self):
        message = self.receive(self.QUESTION, sender="081377770021")
        ticket = message.ticket_id
        self.answer(
            ticket,
            "NIK 3304011234560012 sudah aktif. Hubungi 085712345678 atau "
            "bpjs.bna@gmail.com, rek 9876543210",
        )
        item = self.public_item(ticket)
        self.assertEqual(
            item["question"],
            "NIK saya 3304**********12, hp 0812****890, email b***@gmail.com, "
            "rekening BRI ****123. Kartu BPJS belum aktif",
        )
        self.assertEqual(
            item["answers"][0]["text"],
            "NIK 3304**********12 sudah aktif. Hubungi 0857****678 atau "
            "b***@gmail.com, rek ****210",
        )
        # The stored originals never change (Pasal 11 huruf e).
        self.assertEqual(message.text, self.QUESTION)
        self.assertIn("3304011234560012", ticket.sms_reply_ids.body)
        # The hidden digits cannot be found by searching either.
        for secret in (
            "3304011234560012",
            "34567890",
            "budi",
            "1234567890123",
            "9876543210",
        ):
            self.assertNotIn(ticket.id, self.search(secret), secret)
        self.assertIn(ticket.id, self.search("bpjs aktif"))

    def test_published_wording(self):
        message = self.receive(
            "TDINKES dokter Andi di puskesmas Wanadadi kasar", sender="081377770022"
        )
        ticket = message.ticket_id
        reply = self.answer(ticket, "Dokter Andi sudah kami tegur.")
        # Changes in the transaction that created a record are not tracked:
        # end it as a real request would.
        self.env.flush_all()
        self.env.cr.precommit.run()
        wizard = (
            self.env["sms_center.publication.wording"]
            .with_user(self.user_secretariat)
            .create({"ticket_id": ticket.id})
        )
        self.assertEqual(
            wizard.question_original, "dokter Andi di puskesmas Wanadadi kasar"
        )
        self.assertEqual(wizard.line_ids.reply_id, reply)
        wizard.question_wording = "Dokter di puskesmas Wanadadi kasar, hp 081234567890"
        wizard.line_ids.wording = "Dokter tersebut sudah kami tegur."
        self.assertEqual(
            wizard.public_preview, "Dokter di puskesmas Wanadadi kasar, hp 0812****890"
        )
        wizard.action_apply()
        item = self.public_item(ticket)
        self.assertEqual(
            item["question"], "Dokter di puskesmas Wanadadi kasar, hp 0812****890"
        )
        self.assertEqual(
            item["answers"][0]["text"], "Dokter tersebut sudah kami tegur."
        )
        # Kept beside the originals, with who and when.
        self.assertEqual(
            message.text, "TDINKES dokter Andi di puskesmas Wanadadi kasar"
        )
        self.assertEqual(reply.body, "Dokter Andi sudah kami tegur.")
        self.assertEqual(ticket.sms_question_wording_uid, self.user_secretariat)
        self.assertTrue(ticket.sms_question_wording_date)
        self.assertEqual(reply.published_wording_uid, self.user_secretariat)
        self.assertTrue(reply.published_wording_date)
        self.env.flush_all()
        self.env.cr.precommit.run()  # tracking values are written at commit
        ticket.invalidate_recordset(["message_ids"])
        tracked = ticket.message_ids.tracking_value_ids.filtered(
            lambda v: v.field_id.name == "sms_question_wording"
        )
        self.assertEqual(
            tracked.new_value_char or tracked.new_value_text, wizard.question_wording
        )
        self.assertTrue(
            any(
                "Dokter tersebut sudah kami tegur." in body
                for body in ticket.message_ids.mapped("body")
            )
        )
        self.assertFalse(self.search("Andi"))
        self.assertIn(ticket.id, self.search("tersebut"))
        # Emptying the wording publishes the originals again.
        wizard = (
            self.env["sms_center.publication.wording"]
            .with_user(self.user_secretariat)
            .create({"ticket_id": ticket.id})
        )
        wizard.question_wording = False
        wizard.line_ids.wording = False
        wizard.action_apply()
        self.assertEqual(
            self.public_item(ticket)["question"],
            "dokter Andi di puskesmas Wanadadi kasar",
        )


@tagged("post_install", "-at_install")
class TestPublicReader(PublicationCase):
    def test_search_is_case_and_accent_insensitive(self):
        ticket = self.ask_and_answer("TDINKES Pelayanan di Puskesmas Kalibening lambat")
        accented = self.ask_and_answer(
            "TJALAN Jalan menuju Café Dieng rusak", sender="081377770031"
        )
        self.assertIn(ticket.id, self.search("PELAYANAN kalibening"))
        self.assertIn(ticket.id, self.search("pélayanan"))
        self.assertIn(accented.id, self.search("cafe"))
        self.assertIn(accented.id, self.search("CAFÉ"))
        # Words of the answer; whole words only.
        self.assertIn(ticket.id, self.search("tindak lanjuti"))
        self.assertNotIn(ticket.id, self.search("tindak lanj"))
        self.assertNotIn(ticket.id, self.search("kalibening dieng"))

    def test_filters_by_unit_category_and_month(self):
        complaint = self.env.ref("sms_center.category_complaint")
        with freeze_time("2026-01-15 03:00:00"):
            january = self.ask_and_answer("TDINKES januari")
        with freeze_time("2026-02-10 03:00:00"):
            february = self.ask_and_answer("TJALAN februari", sender="081377770032")
        february.with_user(self.user_roads).category_id = complaint
        self.assertIn(january.id, self.public_ids(unit_id=self.team_health.id))
        self.assertNotIn(february.id, self.public_ids(unit_id=self.team_health.id))
        self.assertEqual(
            self.public_ids(category_id=complaint.id, unit_id=self.team_roads.id),
            [february.id],
        )
        self.assertIn(january.id, self.public_ids(month=(2026, 1)))
        self.assertNotIn(february.id, self.public_ids(month=(2026, 1)))
        # Months are the regency's: 1 February 00:30 WIB is still 31 January UTC.
        with freeze_time("2026-01-31 17:30:00"):
            local_february = self.ask_and_answer(
                "TDINKES dini hari", sender="081377770033"
            )
        self.assertIn(local_february.id, self.public_ids(month=(2026, 2)))
        self.assertNotIn(local_february.id, self.public_ids(month=(2026, 1)))
        months = self.Reader._public_months()
        self.assertIn((2026, 1), months)
        self.assertEqual(months, sorted(months, reverse=True))

    def test_newest_first_and_capped_count(self):
        tickets = self.env["helpdesk.ticket"]
        for index in range(5):
            with freeze_time(f"2026-04-0{index + 1} 03:00:00"):
                tickets |= self.ask_and_answer(
                    f"TJALAN nomor {index}", sender=f"08137777004{index}"
                )
        ids = [
            i for i in self.public_ids(unit_id=self.team_roads.id) if i in tickets.ids
        ]
        self.assertEqual(ids, tickets.ids[::-1])
        public_filter = PublicFilter(unit_id=self.team_roads.id)
        self.assertEqual(
            self.Reader._published_page(public_filter, 1), (tickets.ids[::-1], 5, True)
        )
        self.patch(sms_center_publication, "PAGE_SIZE", 1)
        self.patch(sms_center_publication, "PAGES_AHEAD", 2)
        page = self.Reader._published_page
        self.assertEqual(page(public_filter, 1), ([tickets[-1].id], 3, False))
        self.assertEqual(page(public_filter, 3), ([tickets[2].id], 5, True))
        self.assertEqual(page(public_filter, 6), ([], 5, True))

    def test_search_finds_old_and_new_matches_alike(self):
        """The bounded walk of the newest SMS and the full-text index give the
        same results."""
        with freeze_time("2026-01-05 03:00:00"):
            old = self.ask_and_answer("TJALAN jembatan qxlangka", sender="081377770081")
        newer = self.env["helpdesk.ticket"]
        for index in range(3):
            with freeze_time(f"2026-02-0{index + 1} 03:00:00"):
                newer |= self.ask_and_answer(
                    f"TJALAN jembatan biasa {index}", sender=f"08137777009{index}"
                )
        unit = self.team_roads.id
        # Both ways of searching: the newest SMS first (small or large
        # window), or the full-text index at once (few matches expected).
        for window, archive_max in ((2, -1), (20000, -1), (2, 10**9)):
            self.patch(sms_center_publication, "SEARCH_WINDOW", window)
            self.patch(sms_center_publication, "ARCHIVE_MAX_ESTIMATE", archive_max)
            self.assertEqual(
                self.public_ids(terms=("qxlangka",), unit_id=unit), [old.id], window
            )
            self.assertEqual(
                self.public_ids(terms=("jembatan",), unit_id=unit),
                newer.ids[::-1] + old.ids,
                window,
            )
            self.assertEqual(self.public_ids(terms=("qxnothing",), unit_id=unit), [])
        # A page whose matches all lie among the newest SMS.
        self.patch(sms_center_publication, "ARCHIVE_MAX_ESTIMATE", -1)
        self.patch(sms_center_publication, "SEARCH_WINDOW", 2)
        self.patch(sms_center_publication, "PAGE_SIZE", 1)
        self.patch(sms_center_publication, "PAGES_AHEAD", 0)
        self.assertEqual(
            self.Reader._published_page(
                PublicFilter(terms=("jembatan",), unit_id=unit), 1
            ),
            ([newer[-1].id], 1, False),
        )

    def test_feed_is_ordered_by_publication(self):
        self.set_policy("approval")
        older = self.ask_and_answer("TDINKES pertama")
        newer = self.ask_and_answer("TDINKES kedua", sender="081377770051")
        with freeze_time(fields.Datetime.now() + timedelta(minutes=5)):
            newer.with_user(self.user_secretariat).action_sms_publish()
        with freeze_time(fields.Datetime.now() + timedelta(minutes=10)):
            older.with_user(self.user_secretariat).action_sms_publish()
        feed = self.Reader._feed_ids()
        self.assertLess(feed.index(older.id), feed.index(newer.id))
        self.assertEqual(self.Reader._feed_ids(unit_id=self.team_roads.id), [])

    def test_sitemap_lists_published_questions_only(self):
        published = self.ask_and_answer("TDINKES sitemap")
        pending = self.receive("TDINKES belum", sender="081377770061").ticket_id
        paths = [path for path, _changed in self.Reader._sitemap_rows(batch_size=2)]
        self.assertIn(self.public_item(published)["path"], paths)
        self.assertFalse([p for p in paths if p.endswith(f"-{pending.id}")])

    def test_accountability_figures(self):
        with freeze_time("2026-05-04 01:00:00"):
            in_time = self.receive("TDINKES satu", sender="081377770071").ticket_id
            late = self.receive("TDINKES dua", sender="081377770072").ticket_id
            open_ = self.receive("TDINKES tiga", sender="081377770073").ticket_id
            spam = self.receive("TDINKES promo", sender="081377770074")
            roads = self.receive("TJALAN empat", sender="081377770075").ticket_id
        spam.with_user(self.user_secretariat).write(
            {"moderation_state": "spam", "moderation_reason": "Iklan"}
        )
        with freeze_time("2026-05-04 02:00:00"):
            self.answer(in_time, "Ya.")
            self.answer(roads, "Ya.")
        with freeze_time("2026-05-04 09:00:00"):
            self.answer(late, "Maaf terlambat.")
        self.assertNotEqual(open_.sms_compliance, "in_time")
        with freeze_time("2026-05-20 03:00:00"):
            stats = self.Reader._month_stats()
        rows = {row["unit"]: row for row in stats}
        health = rows["Test Health Unit"]
        self.assertEqual(
            (
                health["received"],
                health["answered"],
                health["in_time"],
                health["decided"],
            ),
            (3, 2, 1, 3),
        )
        self.assertEqual(health["in_time_percent"], 33)
        self.assertEqual(rows["Test Roads Unit"]["in_time_percent"], 100)
        total = rows[False]
        self.assertGreaterEqual(total["received"], 4)
        # Officer names never appear, only units.
        self.assertNotIn("Health Officer", str(stats))
