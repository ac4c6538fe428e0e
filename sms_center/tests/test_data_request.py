"""Citizens' requests about their data (UU 27/2022): list, export (CSV and
PDF), pseudonymise on request; who may; masked numbers and the reveal log."""

import csv
import io
import re
import shutil
import subprocess

import psycopg2

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger

from ..lib import pseudonym
from .personal_data_common import PersonalDataCase, tables_holding

CITIZEN = "081377345612"
CITIZEN_E164 = "+6281377345612"
OTHER = "085211223344"
OTHER_E164 = "+6285211223344"


class RequestCase(PersonalDataCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.first = cls.Message.receive(CITIZEN, "TDINKES obat di puskesmas habis")
        cls.follow_up = cls.Message.receive(CITIZEN, "TDINKES sejak minggu lalu")
        cls.roads = cls.Message.receive("+62 813 7734 5612", "TJALAN lubang besar")
        cls.unknown = cls.Message.receive(CITIZEN, "HALO siapa ini")
        cls.other = cls.Message.receive(OTHER, "TDINKES jadwal vaksin")
        cls.ticket = cls.first.ticket_id

    def setUp(self):
        super().setUp()
        self.reply = self.answer(self.ticket, "Stok obat datang besok pagi.")
        self.other_reply = self.answer(self.other.ticket_id, "Vaksin hari Senin.")

    def new_request(self, user=None, **values):
        return self.Request.with_user(user or self.user_dpo).create(
            {
                "number": CITIZEN,
                "requester_name": "Budi Santoso",
                "requester_verification": "SMS dari nomor tersebut",
                **values,
            }
        )

    def history(self, request):
        self.env.flush_all()
        return " ".join(str(message.body) for message in request.message_ids)

    def csv_rows(self, request):
        data = request._export_csv()
        self.assertTrue(data.startswith("\ufeff"))
        return list(csv.reader(io.StringIO(data[1:])))


@tagged("post_install", "-at_install")
class TestDataRequest(RequestCase):
    def test_lists_everything_held_for_the_number_and_nothing_else(self):
        request = self.new_request()
        self.assertEqual(request.number, CITIZEN_E164)
        self.assertEqual(request.number_masked, "0813****612")
        self.assertRegex(request.name, r"^PDP/\d{4}/\d{4}$")
        self.assertEqual(
            request.sms_message_ids,
            self.first | self.follow_up | self.roads | self.unknown,
        )
        self.assertEqual(request.sms_ticket_ids, self.ticket | self.roads.ticket_id)
        self.assertEqual(request.sms_reply_ids, self.reply)
        self.assertEqual(request.sms_partner_ids, self.first.partner_id)
        self.assertEqual(request.sms_message_count, 4)

    def test_export_contains_exactly_that_numbers_records(self):
        request = self.new_request()
        rows = self.csv_rows(request)
        header, body = rows[0], rows[1:]
        self.assertEqual(len(header), 7)
        texts = [row[5] for row in body]
        expected_texts = {
            "TDINKES obat di puskesmas habis",
            "TDINKES sejak minggu lalu",
            "TJALAN lubang besar",
            "HALO siapa ini",
            "Stok obat datang besok pagi.",
            self.ticket.name,
            self.roads.ticket_id.name,
        }
        # Automatic replies: the unknown keyword's, and the receipts.
        messages = self.first | self.follow_up | self.roads | self.unknown
        auto_replies = set(filter(None, messages.mapped("auto_reply_body")))
        self.assertIn(self.unknown.auto_reply_body, auto_replies)
        self.assertEqual(set(filter(None, texts)), expected_texts | auto_replies)
        # 1 contact, 4 SMS, the automatic replies, 2 tickets, 1 answer.
        self.assertEqual(len(body), 1 + 4 + len(auto_replies) + 2 + 1)
        joined = "\n".join(",".join(row) for row in body)
        self.assertNotIn("vaksin", joined.lower())
        self.assertNotIn("85211223344", joined)
        self.assertIn(CITIZEN_E164, joined)
        # The export is written in the request's history.
        self.assertIn("CSV", self.history(request))

    def test_export_is_in_the_citizens_language(self):
        self.env["res.lang"]._activate_lang("id_ID")
        self.env["ir.config_parameter"].sudo().set_param(
            "sms_center.citizen_lang", "id_ID"
        )
        request = self.new_request()
        header = self.csv_rows(request)[0]
        self.assertEqual(header[0], "Jenis data")
        self.assertEqual(header[5], "Teks")
        html = (
            self.env["ir.actions.report"]
            ._render_qweb_html("sms_center.report_data_request", request.ids)[0]
            .decode()
        )
        self.assertIn("Data pribadi yang disimpan SMS Center", html)
        self.assertIn("TDINKES obat di puskesmas habis", html)
        self.assertIn(CITIZEN_E164, html)
        self.assertNotIn("vaksin", html)

    def test_pdf_statement_is_printed_and_logged(self):
        request = self.new_request()
        action = request.action_print_pdf()
        self.assertEqual(action["report_name"], "sms_center.report_data_request")
        self.assertIn("PDF", self.history(request))
        html = (
            self.env["ir.actions.report"]
            ._render_qweb_html("sms_center.report_data_request", request.ids)[0]
            .decode()
        )
        self.assertIn("Stok obat datang besok pagi.", html)

    def test_invalid_number_is_refused(self):
        with self.assertRaises(ValidationError):
            self.new_request(number="12345")

    def test_pseudonymise_on_request(self):
        # Officials often have no e-mail address: notes need none.
        self.user_dpo.partner_id.email = False
        request = self.new_request(request_type="pseudonymisation")
        with self.assertRaises(UserError):
            request.action_pseudonymise()
        request.reason = "Warga meminta nomornya dihapus."
        request.action_pseudonymise()
        self.env.invalidate_all()
        self.assertEqual(request.state, "done")
        self.assertTrue(request.pseudonymised_at)
        self.assertEqual(request.pseudonymised_by_id, self.user_dpo)
        self.assertEqual(request.requester_name, "Budi Santoso")
        self.assertEqual(request.number, request.number_key, "only the pseudonym")
        for message in self.first | self.follow_up | self.roads | self.unknown:
            self.assertTrue(message.pseudonymised_at)
            self.assertTrue(pseudonym.is_pseudonym(message.sudo().sender))
        self.assertEqual(self.first.text, "TDINKES obat di puskesmas habis")
        self.assertFalse(self.other.pseudonymised_at)
        self.assertEqual(self.other_reply.sudo().number, OTHER_E164)
        partner = self.first.partner_id.sudo()
        self.assertFalse(partner.mobile)
        self.assertTrue(partner.sms_center_pseudonymised_at)
        # Noted on each ticket, without the number.
        for ticket in self.ticket | self.roads.ticket_id:
            note = ticket.message_ids.filtered(lambda m: request.name in str(m.body))
            self.assertTrue(note, ticket.name)
            self.assertNotIn("7734", str(note.body))
            self.assertEqual(note.author_id, self.user_dpo.partner_id)
        # What is held is still listed, under the pseudonym.
        self.assertEqual(len(request.sms_message_ids), 4)
        self.assertEqual(request.sms_partner_ids, partner)
        again = self.new_request()
        self.assertEqual(again.sms_message_ids, request.sms_message_ids)
        # The open tickets can no longer be answered.
        with self.assertRaises(UserError):
            self.answer(self.roads.ticket_id, "Jawaban")
        # The history of the request tells what was done.
        self.assertIn("4 SMS, 2 tickets, 1 answers, 1 contacts", self.history(request))
        with self.assertRaises(UserError):
            request.action_pseudonymise()

    def test_queued_answer_to_the_number_is_cancelled(self):
        request = self.new_request(request_type="pseudonymisation", reason="Permintaan")
        sms = self.env["sms.sms"].search([("uuid", "=", self.reply.sms_uuid)])
        self.assertEqual(sms.state, "outgoing")
        request.action_pseudonymise()
        self.env.invalidate_all()
        self.assertEqual(sms.state, "canceled")
        self.assertTrue(pseudonym.is_pseudonym(sms.number))
        self.assertEqual(self.reply.sms_state, "failed")

    def test_no_digit_of_the_number_remains_anywhere(self):
        digits = "81377345612"
        self.fail_sms(self.reply, "Ditolak: 0813 7734 5612 tidak aktif")
        self.ticket.message_post(
            body="Warga minta ditelepon di +62 813-7734-5612",
            subtype_xmlid="mail.mt_note",
        )
        gateway = self.env["sms_center.gateway"].create(
            {"name": "Kannel", "code": "t-pd-kannel", "gateway_type": "kannel"}
        )
        gateway.write({"last_error": f"invalid destination {CITIZEN_E164}"})
        self.env["sms_center.modem.part"].create(
            {
                "gateway_id": gateway.id,
                "raw_key": "t-part",
                "sender": CITIZEN,
                "text": "TDINKES obat",
                "first_seen_at": self.months_ago(0),
                "state": "error",
            }
        )
        self.env["sms_center.modem.report"].create(
            {
                "gateway_id": gateway.id,
                "raw_key": "t-report",
                "recipient": CITIZEN_E164,
                "first_seen_at": self.months_ago(0),
                "state": "unmatched",
            }
        )
        self.env.flush_all()
        self.assertTrue(tables_holding(self.env.cr, digits))
        request = self.new_request(request_type="pseudonymisation", reason="Hapus")
        request.action_pseudonymise()
        self.env.flush_all()
        self.assertEqual(tables_holding(self.env.cr, digits), {})
        self.assertTrue(tables_holding(self.env.cr, "85211223344"))

    def test_no_digit_remains_on_a_training_simulator(self):
        """A simulator that takes every number (demo and training databases,
        issue 9) holds a copy of every SMS sent to the citizen."""
        digits = "81377345612"
        self.env["sms_center.gateway"].create(
            {
                "name": "Training simulator",
                "code": "t-pd-simulator",
                "gateway_type": "simulator",
                "sequence": 0,
                "receiving_numbers": "+6281227009998",
                "simulator_numbers": "0812-7777-0001",
                "simulator_all_numbers": True,
            }
        )
        self.answer(self.ticket, "Silakan hubungi kami, kami catat 0813-7734-5612.")
        self.env["sms.sms"]._sms_center_process_queue()
        self.env["sms_center.gateway.outage"].create(
            {
                "gateway_id": self.env["sms_center.gateway"].search([], limit=1).id,
                "started_at": self.months_ago(0),
                "first_error": f"invalid destination {CITIZEN_E164}",
            }
        )
        self.env.flush_all()
        phones = self.env["sms_center.simulator.message"].search(
            [("number", "=", CITIZEN_E164)]
        )
        self.assertIn("out", phones.mapped("direction"), "answers reached the phone")
        found = tables_holding(self.env.cr, digits)
        self.assertIn(("sms_center_simulator_message", "number"), found)
        self.assertIn(("sms_center_gateway_outage", "first_error"), found)
        request = self.new_request(request_type="pseudonymisation", reason="Hapus")
        request.action_pseudonymise()
        self.env.flush_all()
        self.assertEqual(tables_holding(self.env.cr, digits), {})
        self.assertTrue(all(pseudonym.is_pseudonym(n) for n in phones.mapped("number")))
        # The other citizen's phone is untouched.
        self.assertTrue(
            self.env["sms_center.simulator.message"].search(
                [("number", "=", OTHER_E164)]
            )
        )


@tagged("post_install", "-at_install")
class TestDataProtectionRights(RequestCase):
    def test_officers_and_secretariat_cannot_use_the_data_protection_actions(self):
        request = self.new_request(request_type="pseudonymisation", reason="Hapus")
        for user in (self.user_health, self.user_secretariat, self.user_admin):
            with self.subTest(user=user.login):
                with self.assertRaises(AccessError):
                    self.new_request(user=user)
                with self.assertRaises(AccessError):
                    request.with_user(user).read(["number"])
                for action in (
                    "action_pseudonymise",
                    "action_export_csv",
                    "action_print_pdf",
                    "action_done",
                ):
                    with self.assertRaises(AccessError):
                        getattr(request.with_user(user), action)()
                with self.assertRaises(AccessError):
                    request.with_user(user)._export_csv()
                with self.assertRaises(AccessError):
                    self.env["ir.actions.report"].with_user(user)._render_qweb_html(
                        "sms_center.report_data_request", request.ids
                    )
        self.assertFalse(self.first.pseudonymised_at)
        self.assertFalse(
            self.user_secretariat.has_group("sms_center.group_data_protection")
        )
        self.assertFalse(self.user_admin.has_group("sms_center.group_data_protection"))


@tagged("post_install", "-at_install")
class TestMaskedNumbers(RequestCase):
    def test_numbers_are_read_masked_by_everyone(self):
        message = self.first.with_user(self.user_secretariat)
        values = message.read(["sender", "sender_e164", "sender_masked"])[0]
        self.assertEqual(values["sender"], "0813****612")
        self.assertEqual(values["sender_e164"], "0813****612")
        self.assertEqual(
            self.reply.with_user(self.user_secretariat).read(["number"])[0]["number"],
            "0813****612",
        )
        partner = self.first.partner_id
        self.assertEqual(
            partner.with_user(self.user_plain).read(["mobile"])[0]["mobile"],
            "0813****612",
        )
        colleague = self.user_health.partner_id
        colleague.sudo().mobile = "+6281211112222"
        self.assertEqual(
            colleague.with_user(self.user_secretariat).read(["mobile"])[0]["mobile"],
            "+6281211112222",
            "colleagues' numbers are not masked",
        )
        # Exports and grouping do not show them either.
        self.user_secretariat.groups_id += self.env.ref("base.group_allow_export")
        exported = message.export_data(["sender", "text"])["datas"]
        self.assertEqual(exported, [["0813****612", self.first.text]])
        with self.assertRaises(UserError):
            self.Message.with_user(self.user_secretariat).read_group(
                [], ["sender_e164"], ["sender_e164"]
            )
        notifications = self.env["mail.notification"].search(
            [("sms_number", "=", CITIZEN_E164)]
        )
        self.assertTrue(notifications)
        self.assertEqual(
            notifications.with_user(self.user_health).read(["sms_number"])[0][
                "sms_number"
            ],
            "0813****612",
        )
        # The system itself reads the number (sending, routing).
        self.assertEqual(self.first.sudo().sender, CITIZEN)

    def test_modem_parts_and_reports_show_numbers_masked_to_administrators(self):
        gateway = self.env["sms_center.gateway"].create(
            {"name": "Modem", "code": "t-pd-modem", "gateway_type": "kannel"}
        )
        part = self.env["sms_center.modem.part"].create(
            {
                "gateway_id": gateway.id,
                "raw_key": "t-mask-part",
                "first_seen_at": self.months_ago(0),
                "sender": CITIZEN_E164,
                "text": "TDINKES obat",
                "state": "pending",
            }
        )
        report = self.env["sms_center.modem.report"].create(
            {
                "gateway_id": gateway.id,
                "raw_key": "t-mask-report",
                "first_seen_at": self.months_ago(0),
                "recipient": CITIZEN,
                "state": "unmatched",
            }
        )
        admin = self.user_admin
        self.assertEqual(
            part.with_user(admin).read(["sender"])[0]["sender"], "0813****612"
        )
        self.assertEqual(
            report.with_user(admin).read(["recipient"])[0]["recipient"], "0813****612"
        )
        with self.assertRaises(UserError):
            part.with_user(admin).read_group([], ["sender"], ["sender"])
        action = report.with_user(admin).action_sms_center_reveal_number()
        self.assertIn(CITIZEN, action["params"]["message"])
        entry = self.env["sms_center.number.reveal"].search([], limit=1)
        self.assertEqual(
            (entry.user_id, entry.res_model, entry.res_id),
            (admin, "sms_center.modem.report", report.id),
        )
        # The gateway code reads the stored number.
        self.assertEqual(part.sender, CITIZEN_E164)

    def test_masked_value_sent_back_by_a_form_is_not_saved(self):
        self.user_secretariat.groups_id += self.env.ref("base.group_partner_manager")
        partner = self.first.partner_id
        partner.with_user(self.user_secretariat).write(
            {"mobile": "0813****612", "comment": "Warga Desa Wanadadi"}
        )
        self.assertEqual(partner.sudo().mobile, CITIZEN_E164)

    def test_showing_a_number_is_logged_and_the_log_cannot_change(self):
        Reveal = self.env["sms_center.number.reveal"]
        action = self.first.with_user(
            self.user_secretariat
        ).action_sms_center_reveal_number()
        self.assertIn(CITIZEN_E164, action["params"]["message"])
        entry = Reveal.search([], limit=1)
        self.assertEqual(entry.user_id, self.user_secretariat)
        self.assertEqual(entry.res_model, "sms_center.message")
        self.assertEqual(entry.res_id, self.first.id)
        self.assertTrue(entry.revealed_at)
        self.assertNotIn("7734", str(entry.read()[0]))
        for record in (self.ticket, self.first.partner_id):
            record.with_user(self.user_secretariat).action_sms_center_reveal_number()
        self.assertEqual(
            set(Reveal.search([], limit=3).mapped("res_model")),
            {"sms_center.message", "helpdesk.ticket", "res.partner"},
        )
        # Officers never see numbers in full.
        with self.assertRaises(AccessError):
            self.first.with_user(self.user_health).action_sms_center_reveal_number()
        with self.assertRaises(AccessError):
            self.ticket.with_user(self.user_health).action_sms_center_reveal_number()
        # Administrators and data protection officers read the log; the
        # secretariat does not; nobody changes it.
        for user in (self.user_admin, self.user_dpo):
            self.assertTrue(Reveal.with_user(user).search([]))
        with self.assertRaises(AccessError):
            Reveal.with_user(self.user_secretariat).search([])
        for user in (self.user_admin, self.user_dpo):
            with self.assertRaises(AccessError):
                entry.with_user(user).write({"record_name": "x"})
            with self.assertRaises(AccessError):
                entry.with_user(user).unlink()
            with self.assertRaises(AccessError):
                Reveal.with_user(user).create(
                    {"user_id": user.id, "res_model": "res.partner", "res_id": 1}
                )
        with self.assertRaises(UserError):
            entry.sudo().write({"record_name": "x"})
        with self.assertRaises(UserError):
            entry.sudo().unlink()
        for query, params in (
            (
                "UPDATE sms_center_number_reveal SET user_id = %s WHERE id = %s",
                [self.user_admin.id, entry.id],
            ),
            ("DELETE FROM sms_center_number_reveal WHERE id = %s", [entry.id]),
        ):
            with (
                self.subTest(query=query),
                self.assertRaises(psycopg2.Error),
                mute_logger("odoo.sql_db"),
                self.env.cr.savepoint(),
            ):
                self.env.cr.execute(query, params)
        self.assertEqual(entry.user_id, self.user_secretariat)

    def test_pseudonymised_number_is_not_shown(self):
        self.new_request(
            request_type="pseudonymisation", reason="Hapus"
        ).action_pseudonymise()
        count = self.env["sms_center.number.reveal"].search_count([])
        action = self.first.with_user(
            self.user_secretariat
        ).action_sms_center_reveal_number()
        self.assertEqual(action["params"]["type"], "info")
        self.assertEqual(self.env["sms_center.number.reveal"].search_count([]), count)

    def test_odoo_resend_dialog_shows_masked_numbers_and_resends_to_the_real_one(self):
        # A center gateway: resent SMS are queued for it, never sent here.
        self.env["sms_center.gateway"].create(
            {"name": "Kannel", "code": "t-resend", "gateway_type": "kannel"}
        )
        sms = self.fail_sms(self.reply, "Gateway down")
        message = sms.mail_message_id
        wizard = (
            self.env["sms.resend"]
            .with_user(self.user_health)
            .with_context(default_mail_message_id=message.id)
            .create({})
        )
        self.assertEqual(wizard.recipient_ids.sms_number, "0813****612")
        wizard.action_resend()
        resent = self.env["sms.sms"].search(
            [("mail_message_id", "=", message.id), ("id", "!=", sms.id)]
        )
        self.assertEqual(resent.number, CITIZEN_E164)


@tagged("post_install", "-at_install")
class TestDataRequestDownload(RequestCase, HttpCase):
    def test_csv_download_for_data_protection_officers_only(self):
        request = self.new_request()
        url = f"/sms_center/data_request/{request.id}/csv"
        self.authenticate("t_secretariat", "t_secretariat")
        self.assertEqual(self.url_open(url).status_code, 404)
        self.authenticate("t_data_protection", "t_data_protection")
        response = self.url_open(url)
        self.assertEqual(response.status_code, 200)
        self.assertIn("text/csv", response.headers["Content-Type"])
        self.assertIn("PDP-", response.headers["Content-Disposition"])
        self.assertIn("TDINKES obat di puskesmas habis", response.content.decode())

    def test_pdf_statement_has_the_letterhead_and_the_data(self):
        """Rendered for real by wkhtmltopdf (Debian's prints no header: the
        letterhead is in the page body), read back with pdftotext."""
        for tool in ("wkhtmltopdf", "pdftotext"):
            if not shutil.which(tool):
                self.fail(f"{tool} not found (scripts/run-tests installs it)")
        request = self.new_request()
        pdf, _type = (
            self.env["ir.actions.report"]
            .with_context(force_report_rendering=True)
            ._render_qweb_pdf("sms_center.report_data_request", request.ids)
        )
        self.assertTrue(pdf.startswith(b"%PDF"))
        text = subprocess.run(
            ["pdftotext", "-layout", "-", "-"],
            input=pdf,
            check=True,
            capture_output=True,
        ).stdout.decode()
        text = re.sub(r"\s+", " ", text)
        self.assertIn(self.env.company.name, text)
        self.assertIn("Data pribadi yang disimpan SMS Center", text)
        self.assertIn("Stok obat datang besok pagi.", text)
        self.assertIn(CITIZEN_E164, text)
        self.assertNotIn("85211223344", text)
