"""Daily use by officials (R19): where they land, what the ticket lets them
do, the composer's confirmation and "next SMS", the secretariat's overview,
Indonesian for the helpdesk terms officers see."""

import importlib.util
from pathlib import Path

from odoo.exceptions import AccessError, UserError
from odoo.modules.module import get_module_path
from odoo.tests import new_test_user, tagged

from .common import SmsCenterCase


@tagged("post_install", "-at_install")
class TestTicketGuards(SmsCenterCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.answered_stage = cls.env.ref("sms_center.helpdesk_ticket_stage_answered")
        cls.done_stage = cls.env.ref("helpdesk_mgmt.helpdesk_ticket_stage_done")
        cls.progress_stage = cls.env.ref(
            "helpdesk_mgmt.helpdesk_ticket_stage_in_progress"
        )

    def test_answered_only_through_an_answer(self):
        ticket = self.receive("TDINKES obat habis").ticket_id
        as_officer = ticket.with_user(self.user_health)
        with self.assertRaises(UserError):
            as_officer.stage_id = self.answered_stage
        with self.assertRaises(UserError):
            ticket.with_user(self.user_secretariat).stage_id = self.answered_stage
        with self.assertRaises(UserError, msg="no closing without an answer"):
            as_officer.stage_id = self.done_stage
        as_officer.stage_id = self.progress_stage
        self.assertFalse(ticket.sms_answered)
        # Answering moves it to Answered.
        self.env["sms_center.reply.wizard"].with_user(self.user_health).create(
            {"ticket_id": ticket.id, "body": "Stok datang besok."}
        ).action_send()
        self.assertEqual(ticket.stage_id, self.answered_stage)
        as_officer.stage_id = self.done_stage
        self.assertEqual(ticket.stage_id, self.done_stage)

    def test_secretariat_closes_spam_without_an_answer(self):
        ticket = self.receive("TDINKES menangkan hadiah").ticket_id
        mails = self.env["mail.mail"].search([])
        ticket.with_user(self.user_secretariat).stage_id = self.done_stage
        self.assertEqual(ticket.sms_compliance, "closed")
        self.assertFalse(ticket.sms_needs_action)
        self.assertEqual(
            self.env["mail.mail"].search([]), mails, "no helpdesk e-mail to a citizen"
        )

    def test_title_is_the_citizens_and_category_the_officers(self):
        ticket = self.receive("TDINKES obat habis").ticket_id
        with self.assertRaises(UserError):
            ticket.with_user(self.user_health).name = "Judul lain"
        with self.assertRaises(UserError):
            ticket.with_user(self.user_secretariat).name = "Judul lain"
        ticket.with_user(self.user_health).category_id = self.env.ref(
            "sms_center.category_complaint"
        )
        self.assertEqual(ticket.name, "TDINKES: obat habis")
        # The category is set on the ticket, not on the inbound SMS.
        message = ticket.sms_message_ids
        self.assertTrue(message._fields["category_id"].readonly)
        self.assertEqual(message.category_id, ticket.category_id)

    def test_form_shows_the_citizens_sms_once_and_no_send_message(self):
        arch = (
            self.env["helpdesk.ticket"]
            .with_user(self.user_health)
            .get_view(self.env.ref("sms_center.view_ticket_sms_form").id)["arch"]
        )
        self.assertNotIn('name="description"', arch)
        self.assertEqual(arch.count('name="sms_message_ids"'), 1)
        self.assertIn('name="sms_answer_status"', arch)
        self.assertIn('name="action_resend_sms_answer"', arch)


@tagged("post_install", "-at_install")
class TestNeedsAction(SmsCenterCase):
    def answer(self, ticket, user=None):
        wizard = (
            self.env["sms_center.reply.wizard"]
            .with_user(user or self.user_health)
            .create({"ticket_id": ticket.id, "body": "Sudah kami tindak lanjuti."})
        )
        return wizard, wizard.action_send()

    def test_confirmation_then_the_next_sms(self):
        first = self.receive("TDINKES obat habis").ticket_id
        second = self.receive("TDINKES vaksin?", sender="081311112222").ticket_id
        self.receive("TJALAN lubang", sender="081311113333")
        wizard, action = self.answer(first)
        # The same dialog, now confirming.
        self.assertEqual(action["res_model"], "sms_center.reply.wizard")
        self.assertEqual(action["res_id"], wizard.id)
        self.assertEqual(action["target"], "new")
        self.assertEqual(wizard.state, "sent")
        self.assertIn("0812****432", wizard.sent_info)
        self.assertEqual(wizard.reply_status, "pending")
        self.assertEqual(wizard.next_count, 1, "TJALAN is not this officer's")
        with self.assertRaises(UserError):
            wizard.action_send()
        self.assertEqual(len(first.sms_reply_ids), 1)
        nxt = wizard.action_next()
        self.assertEqual(nxt["res_model"], "helpdesk.ticket")
        self.assertEqual(nxt["res_id"], second.id)
        self.assertEqual(
            nxt["views"], [(self.env.ref("sms_center.view_ticket_sms_form").id, "form")]
        )
        wizard, _action = self.answer(second)
        self.assertEqual(wizard.next_count, 0)
        self.assertEqual(wizard.action_next()["tag"], "display_notification")

    def test_most_urgent_first(self):
        late = self.receive(
            "TDINKES lama", sender="081311112222", received_at="2026-01-01 08:00:00"
        ).ticket_id
        self.receive("TDINKES baru", sender="081311113333")
        current = self.receive("TDINKES ini", sender="081311114444").ticket_id
        self.assertEqual(
            current.with_user(self.user_health)._sms_center_next_ticket(), late
        )

    def test_failed_answer_shows_in_the_list_views_next_to_answered(self):
        ticket = self.receive("TDINKES obat habis").ticket_id
        self.answer(ticket)
        sms = self.env["sms.sms"].search([("uuid", "=", ticket.sms_reply_ids.sms_uuid)])
        sms.write(
            {
                "state": "error",
                "failure_type": "sms_server",
                "sms_center_failure_reason": "Nomor tidak aktif",
            }
        )
        data = ticket.with_user(self.user_health).read(
            ["sms_answered", "sms_answer_status", "sms_answer_failure_reason"]
        )[0]
        self.assertEqual(
            data,
            dict(
                data,
                sms_answered=True,
                sms_answer_status="failed",
                sms_answer_failure_reason="Nomor tidak aktif",
            ),
        )
        inbox = self.env.ref("sms_center.action_sms_inbox")
        self.assertIn("search_default_needs_action", inbox.context)
        Ticket = self.env["helpdesk.ticket"].with_user(self.user_health)
        views = Ticket.get_views(
            [(v.view_id.id, v.view_mode) for v in inbox.view_ids]
            + [(inbox.search_view_id.id, "search")]
        )["views"]
        for mode in ("list", "kanban"):
            self.assertIn("sms_answer_status", views[mode]["arch"])
        self.assertIn('name="needs_action"', views["search"]["arch"])
        self.assertIn(ticket, Ticket.search([("sms_needs_action", "=", True)]))

    def test_upgrade_fills_the_new_fields_in_sql(self):
        """The pre-migration computes in SQL what the ORM computes."""
        awaiting = self.receive("TDINKES satu").ticket_id
        pending = self.receive("TDINKES dua", sender="081311112222").ticket_id
        failed = self.receive("TDINKES tiga", sender="081311113333").ticket_id
        closed = self.receive("TDINKES empat", sender="081311114444").ticket_id
        for ticket in pending | failed | closed:
            self.answer(ticket)
        for ticket in failed | closed:
            self.env["sms.sms"].search(
                [("uuid", "=", ticket.sms_reply_ids.sms_uuid)]
            ).write(
                {
                    "state": "error",
                    "failure_type": "sms_server",
                    "sms_center_failure_reason": "Nomor tidak aktif",
                }
            )
        closed.stage_id = self.env.ref("helpdesk_mgmt.helpdesk_ticket_stage_done")
        tickets = awaiting | pending | failed | closed
        fields = ["sms_answer_status", "sms_answer_failure_reason", "sms_needs_action"]
        expected = tickets.read(fields)
        self.assertEqual(
            [t["sms_needs_action"] for t in expected], [True, False, True, False]
        )
        self.env.flush_all()
        self.env.cr.execute(
            """UPDATE helpdesk_ticket SET sms_answer_status = NULL,
                      sms_answer_failure_reason = NULL, sms_needs_action = NULL
                WHERE id IN %s""",
            [tuple(tickets.ids)],
        )
        path = Path(get_module_path("sms_center"), "migrations", "18.0.1.1.0")
        spec = importlib.util.spec_from_file_location(
            "sms_center_pre_migration", path / "pre-migration.py"
        )
        migration = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(migration)
        migration.fill_answer_status(self.env.cr)
        self.env.invalidate_all()
        self.assertEqual(tickets.read(fields), expected)


@tagged("post_install", "-at_install")
class TestLanding(SmsCenterCase):
    def test_each_role_lands_in_its_work(self):
        inbox = self.env.ref("sms_center.action_sms_inbox")
        overview = self.env.ref("sms_center.action_sms_center_overview")
        users = self.user_health | self.user_secretariat | self.user_admin
        users.action_id = False
        chosen = self.env.ref("sms_center.action_sms_ticket_all")
        self.user_roads.action_id = chosen.id
        self.env["res.users"]._sms_center_set_home_actions()
        self.assertEqual(self.user_health.action_id.id, inbox.id)
        self.assertEqual(self.user_secretariat.action_id.id, overview.id)
        self.assertEqual(self.user_admin.action_id.id, overview.id)
        self.assertEqual(
            self.user_roads.action_id.id,
            chosen.id,
            "a home action chosen by hand is kept",
        )
        self.assertFalse(self.user_plain.action_id)

    def test_users_choose_their_start_page_in_their_preferences(self):
        inbox = self.env.ref("sms_center.action_sms_inbox")
        discuss = self.env.ref("mail.action_discuss")
        officer = self.user_health
        officer.action_id = inbox.id
        self.assertEqual(officer.sms_center_start_page, "inbox")
        # As the preferences dialog saves it: the officer on their own record.
        officer.with_user(officer).write({"sms_center_start_page": "discuss"})
        self.assertEqual(officer.action_id.id, discuss.id)
        with self.assertRaises(UserError):
            officer.with_user(officer).write({"sms_center_start_page": "overview"})
        self.user_secretariat.with_user(self.user_secretariat).write(
            {"sms_center_start_page": "overview"}
        )
        self.assertEqual(
            self.user_secretariat.action_id.id,
            self.env.ref("sms_center.action_sms_center_overview").id,
        )
        view = self.env.ref("base.view_users_form_simple_modif")
        arch = officer.with_user(officer).get_views([(view.id, "form")])
        self.assertIn(
            "sms_center_start_page", arch["views"]["form"]["arch"], "in preferences"
        )
        # A page an administrator chose is shown as such, not as another one.
        officer.action_id = self.env.ref("sms_center.action_sms_ticket_all").id
        self.assertFalse(officer.sms_center_start_page)

    def test_officer_created_by_the_wizard_lands_in_the_inbox(self):
        action = (
            self.env["sms_center.officer.create"]
            .with_user(self.user_admin)
            .create(
                {
                    "name": "Petugas Baru",
                    "login": "t_new_officer",
                    "password": "t_new_officer_pw",
                    "keyword_ids": [(6, 0, self.kw_health.ids)],
                }
            )
            .action_create()
        )
        officer = self.env["sms_center.officer"].browse(action["res_id"])
        self.assertEqual(
            officer.user_id.action_id.id, self.env.ref("sms_center.action_sms_inbox").id
        )
        self.assertEqual(officer.login, "t_new_officer")


@tagged("post_install", "-at_install")
class TestOverview(SmsCenterCase):
    def test_the_work_across_units(self):
        Overview = self.env["sms_center.overview"]
        before = {
            tile["key"]: tile["count"]
            for tile in Overview.with_user(self.user_secretariat).get_overview()[
                "tiles"
            ]
        }
        self.receive("TDINKES obat habis")
        self.receive("TJALAN lubang", sender="081311112222")
        self.receive("HALO ini siapa", sender="081311113333")
        self.receive("Promo paket", sender="TELKOMSEL")
        data = Overview.with_user(self.user_secretariat).get_overview()
        after = {tile["key"]: tile["count"] for tile in data["tiles"]}
        self.assertEqual(after["to_answer"], before["to_answer"] + 2)
        self.assertEqual(after["unknown"], before["unknown"] + 1)
        self.assertEqual(after["to_moderate"], before["to_moderate"] + 1)
        self.assertFalse(data["gateways"], "gateways are the administrators'")
        rows = {row["name"]: row for row in data["units"]["rows"]}
        health = {cell["key"]: cell for cell in rows["Test Health Unit"]["cells"]}
        self.assertEqual(health["to_answer"]["count"], 1)
        # One tap from each figure to its list.
        action = health["to_answer"]["action"]
        found = (
            self.env["helpdesk.ticket"]
            .with_user(self.user_secretariat)
            .search(action["domain"])
        )
        self.assertEqual(found.team_id, self.team_health)
        unknown = next(t for t in data["tiles"] if t["key"] == "unknown")
        self.assertEqual(unknown["action"]["res_model"], "sms_center.message")
        self.assertEqual(
            self.env["sms_center.message"].search_count(unknown["action"]["domain"]),
            after["unknown"],
        )
        admin_data = Overview.with_user(self.user_admin).get_overview()
        self.assertIn("alerts", admin_data["gateways"])

    def test_officers_have_no_overview(self):
        with self.assertRaises(AccessError):
            self.env["sms_center.overview"].with_user(self.user_health).get_overview()


@tagged("post_install", "-at_install")
class TestIndonesian(SmsCenterCase):
    """What officers read from helpdesk_mgmt is in Indonesian, and stays so
    when the modules' translations are loaded again (module update)."""

    def test_helpdesk_terms_officers_see(self):
        officer = new_test_user(
            self.env,
            login="t_officer_id",
            groups="sms_center.group_officer",
            lang="id_ID",
        )
        Ticket = (
            self.env["helpdesk.ticket"]
            .with_user(officer)
            .with_context(lang=officer.lang)
        )
        labels = Ticket.fields_get(["team_id", "user_id", "stage_id", "category_id"])
        self.assertEqual(labels["team_id"]["string"], "Unit kerja")
        self.assertEqual(labels["user_id"]["string"], "Petugas")
        self.assertEqual(labels["stage_id"]["string"], "Tahap")
        self.assertEqual(labels["category_id"]["string"], "Kategori")
        stages = Ticket.env["helpdesk.ticket.stage"]
        new = stages.browse(self.env.ref("helpdesk_mgmt.helpdesk_ticket_stage_new").id)
        self.assertEqual(new.name, "Baru")
        # An update of the fields' definitions (helpdesk_mgmt's or ours)
        # rewrites their labels in English only, then the translations of
        # the updated modules are loaded again: Indonesian comes back.
        team_field = self.env.ref("helpdesk_mgmt.field_helpdesk_ticket__team_id")
        stage = self.env.ref("helpdesk_mgmt.helpdesk_ticket_stage_in_progress")
        self.env.flush_all()
        self.env.cr.execute(
            """UPDATE ir_model_fields SET field_description = '{"en_US": "Team"}'
                WHERE id = %s""",
            [team_field.id],
        )
        self.env.cr.execute(
            """UPDATE helpdesk_ticket_stage SET name = '{"en_US": "In Progress"}'
                WHERE id = %s""",
            [stage.id],
        )
        self.env.invalidate_all()
        self.env.registry.clear_cache()
        self.assertEqual(stage.with_context(lang="id_ID").name, "In Progress")
        self.env["ir.module.module"].search(
            [("name", "in", ("helpdesk_mgmt", "sms_center"))]
        )._update_translations(filter_lang=["id_ID"])
        self.assertEqual(stage.with_context(lang="id_ID").name, "Sedang diproses")
        labels = Ticket.fields_get(["team_id"])
        self.assertEqual(labels["team_id"]["string"], "Unit kerja")

    def test_creation_messages_in_the_readers_language(self):
        keyword = (
            self.env["sms_center.keyword"]
            .with_context(lang="id_ID")
            .create({"name": "TBARU", "team_id": self.team_health.id})
        )
        self.assertIn("Kata kunci dibuat", keyword.message_ids[-1].body)
