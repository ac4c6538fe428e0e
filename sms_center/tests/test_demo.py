"""The demo database tells a realistic story through the real flows, and
its SMS are delivered by the simulator (R19)."""

from datetime import timedelta

from odoo import fields
from odoo.tests import TransactionCase, tagged
from odoo.tools.convert import convert_file


@tagged("post_install", "-at_install")
class TestDemoStory(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.simulator = cls.env.ref("sms_center.demo_gateway_simulator")
        cls.Ticket = cls.env["helpdesk.ticket"]
        cls.sms = [("sms_keyword_id", "!=", False)]

    def test_sent_through_the_simulator(self):
        self.assertEqual(self.simulator.gateway_type, "simulator")
        self.assertTrue(self.simulator.active and self.simulator.outbound_enabled)
        self.assertFalse(self.env.ref("sms_center.demo_gateway_modem").active)
        replies = self.env["sms_center.reply"].search(
            [("keyword_id.name", "in", ("DINKES", "CAPIL", "BUPATI", "DPUPR"))]
        )
        self.assertTrue(replies.filtered("sms_delivered"), "answers are delivered")
        failed = replies.filtered(lambda r: r.sms_state == "failed")
        self.assertEqual(len(failed), 1)
        self.assertTrue(failed.sms_failure_reason)
        self.assertTrue(failed.ticket_id.sms_needs_action)
        self.assertFalse(
            self.env["sms.sms"].search_count(
                [("state", "=", "outgoing"), ("sms_center_gateway_id", "=", False)]
            ),
            "nothing left waiting in the queue",
        )

    def test_a_realistic_story(self):
        now = fields.Datetime.now()
        tickets = self.Ticket.search(self.sms)
        received = tickets.mapped("sms_received_at")
        self.assertLess(now - max(received), timedelta(hours=1), "today-relative")
        self.assertLess(now - min(received), timedelta(days=5))
        compliance = set(tickets.mapped("sms_compliance"))
        self.assertTrue({"in_time", "late", "overdue", "open"} <= compliance)
        escalated = tickets.filtered("sms_escalated_at")
        self.assertTrue(escalated)
        superiors = self.env["sms_center.reminder"].search(
            [("kind", "=", "escalation")]
        )
        self.assertTrue(superiors)
        self.assertEqual(
            superiors.officer_id, self.env.ref("sms_center.demo_officer_sekda")
        )
        self.assertTrue(all(superiors.mapped("sms_delivered")))
        hourly = self.env["sms_center.reminder"].search([("kind", "=", "hourly")])
        self.assertTrue(hourly and all(hourly.mapped("sms_delivered")))
        Message = self.env["sms_center.message"]
        spam = Message.search([("moderation_state", "=", "spam")])
        self.assertTrue(spam)
        # Closed by the secretariat: in nobody's work, never escalated.
        self.assertTrue(spam.ticket_id.stage_id.closed)
        self.assertFalse(spam.ticket_id.filtered("sms_needs_action"))
        self.assertFalse(spam.ticket_id.filtered("sms_escalated_at"))
        routed_by_hand = Message.search(
            [("text", "=", "DINKS puskesmas Punggelan tutup")]
        )
        self.assertEqual(routed_by_hand.state, "routed")
        self.assertEqual(routed_by_hand.keyword_id.name, "DINKES")
        self.assertTrue(Message.search_count([("state", "=", "unknown")]))
        self.assertTrue(Message.search_count([("state", "=", "appended")]))
        officers = self.env["sms_center.officer"].search(
            [("id", "!=", self.env.ref("sms_center.demo_officer_sekda").id)]
        )
        self.assertTrue(all(officers.mapped("superior_id")))

    def test_the_regency(self):
        self.assertEqual(
            self.env.ref("base.main_company").name, "Pemerintah Kabupaten Banjarnegara"
        )

    def test_an_update_does_not_tell_the_story_again(self):
        Message = self.env["sms_center.message"]
        count = Message.search_count([])
        convert_file(
            self.env, "sms_center", "demo/sms_center_demo.xml", {}, kind="demo"
        )
        self.assertEqual(Message.search_count([]), count)
