"""An answer no active gateway can send: the composer says so, the
administrators get an activity, the answer waits for a gateway (not
"pending" forever, never Odoo's IAP) and goes out once one exists."""

from unittest.mock import patch

from odoo.tests import tagged

from odoo.addons.sms.tools.sms_api import SmsApi

from .common import SmsCenterCase


@tagged("post_install", "-at_install")
class TestWaitingForGateway(SmsCenterCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Gateway = cls.env["sms_center.gateway"]
        # No gateway sends: the demo's simulator and any other are off.
        cls.Gateway.search([("outbound_enabled", "=", True)]).write(
            {"outbound_enabled": False}
        )
        cls.env["sms.sms"].search([("state", "in", ("outgoing", "process"))]).write(
            {"to_delete": True}
        )
        cls.activity_type = cls.env.ref("sms_center.mail_activity_type_sms_no_gateway")

    def setUp(self):
        super().setUp()
        # Odoo's IAP service must never be asked to send the center's SMS.
        iap = patch.object(
            SmsApi, "_send_sms_batch", side_effect=AssertionError("IAP sender called")
        )
        iap.start()
        self.addCleanup(iap.stop)

    def compose(self, ticket):
        return (
            self.env["sms_center.reply.wizard"]
            .with_user(self.user_health)
            .create({"ticket_id": ticket.id, "body": "Obat dikirim besok."})
        )

    def waiting_activities(self, ticket):
        return ticket.activity_ids.filtered(
            lambda a: a.activity_type_id == self.activity_type
        )

    def test_answer_waits_for_a_gateway_then_goes_out(self):
        ticket = self.receive("TDINKES obat habis").ticket_id
        wizard = self.compose(ticket)
        self.assertIn("No active SMS gateway", wizard.gateway_warning)
        wizard.action_send()
        reply = ticket.sms_reply_ids
        sms = self.env["sms.sms"].search([("uuid", "=", reply.sms_uuid)])
        self.assertTrue(sms.sms_center_managed)
        # Waiting as soon as it is sent: the confirmation, the ticket and the
        # administrators' activity do not wait for the queue worker.
        self.assertEqual(wizard.reply_status, "waiting")
        self.assertEqual(ticket.sms_answer_status, "waiting")
        self.assertTrue(self.waiting_activities(ticket))
        # Odoo's own queue cron and the center's worker: it waits.
        self.env["sms.sms"]._process_queue()
        self.env["sms.sms"]._sms_center_process_queue()
        self.env.invalidate_all()
        self.assertEqual(sms.state, "outgoing")
        self.assertTrue(sms.sms_center_waiting)
        self.assertEqual(reply.sms_state, "waiting")
        self.assertEqual(ticket.sms_answer_status, "waiting")
        self.assertTrue(ticket.sms_answered, "the officer answered in time")
        activities = self.waiting_activities(ticket)
        admins = self.Gateway._sms_center_admins()
        self.assertIn(self.user_admin, admins)
        self.assertEqual(activities.user_id, admins)
        self.assertIn("0812****432", activities[0].note)
        # A second run neither repeats the activity nor changes anything.
        self.env["sms.sms"]._sms_center_process_queue()
        self.assertEqual(self.waiting_activities(ticket), activities)
        # A gateway that sends to the number: the answer goes out.
        simulator = self.Gateway.create(
            {
                "name": "Late simulator",
                "code": "t-late-simulator",
                "gateway_type": "simulator",
                "simulator_numbers": "081298765432",
            }
        )
        self.assertFalse(sms.sms_center_waiting, "released for routing")
        simulator._simulator_flush()
        self.env.invalidate_all()
        self.assertEqual(sms.sms_center_gateway_id, simulator)
        self.assertEqual(reply.sms_state, "sent")
        self.assertEqual(ticket.sms_answer_status, "delivered")
        self.assertFalse(self.waiting_activities(ticket), "settled by itself")

    def test_other_odoo_sms_keep_odoos_sender_without_a_gateway(self):
        partner = self.env["res.partner"].create({"name": "Rekanan"})
        with patch.object(
            type(self.env["sms.sms"]), "_send", autospec=True, return_value=None
        ) as send:
            partner._message_sms("Halo", sms_numbers=["+6281311112222"])
            other = self.env["sms.sms"].search([("number", "=", "+6281311112222")])
            self.assertFalse(other.sms_center_managed)
            self.env["sms.sms"]._process_queue()
        sent = self.env["sms.sms"].browse()
        for call in send.call_args_list:
            sent |= call.args[0]
        self.assertIn(other, sent, "Odoo's queue still handles its own SMS")
        self.assertFalse(other.sms_center_waiting)
