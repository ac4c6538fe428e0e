"""The simulator gateway: SMS that never leave Odoo, with delivery reports
(R19), and the simulator screen's server side."""

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged

from .common import SmsCenterCase

TEST_PHONE = "+6281277770001"
FAILING_PHONE = "+6281277770099"


class SimulatorCase(SmsCenterCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Gateway = cls.env["sms_center.gateway"]
        cls.simulator = cls.Gateway.create(
            {
                "name": "Test simulator",
                "code": "t-simulator",
                "gateway_type": "simulator",
                "sequence": 1,
                "receiving_numbers": "+6281227009999",
                "default_sender_id": "TESTSIM",
                "simulator_numbers": "0812-7777-0001, 0812-7777-0002, 08127777*",
                "simulator_failing_numbers": "0812-7777-0099",
            }
        )
        cls.Log = cls.env["sms_center.simulator.message"]
        # Only this test's SMS in the queue (the demo data may leave some).
        cls.env["sms.sms"].search([("state", "in", ("outgoing", "process"))]).write(
            {"to_delete": True}
        )

    def answer(self, ticket, body="Terima kasih, sudah kami tindak lanjuti."):
        self.env["sms_center.reply.wizard"].with_user(self.user_health).create(
            {"ticket_id": ticket.id, "body": body}
        ).action_send()
        reply = ticket.sms_reply_ids[:1]
        return reply, self.env["sms.sms"].search([("uuid", "=", reply.sms_uuid)])

    def simulate(self, text, number=TEST_PHONE, user=None):
        Log = self.Log.with_user(user or self.user_secretariat)
        return Log.simulator_send(self.simulator.id, number, text)


@tagged("post_install", "-at_install")
class TestSimulatorGateway(SimulatorCase):
    def test_answer_delivered_by_the_worker_with_a_delivery_report(self):
        ticket = self.receive("TDINKES obat habis", sender="081277770001").ticket_id
        reply, sms = self.answer(ticket)
        self.assertEqual(reply.sms_state, "pending")
        self.env["sms.sms"]._sms_center_process_queue()
        self.env.invalidate_all()
        self.assertEqual(sms.sms_center_gateway_id, self.simulator)
        self.assertEqual(sms.state, "sent", "the delivery report arrived")
        self.assertEqual(reply.sms_state, "sent")
        self.assertTrue(reply.sms_delivered)
        self.assertEqual(ticket.sms_answer_status, "delivered")
        self.assertFalse(ticket.sms_needs_action)
        log = self.Log.search([("sms_uuid", "=", reply.sms_uuid)])
        self.assertRecordValues(
            log,
            [
                {
                    "number": TEST_PHONE,
                    "direction": "out",
                    "state": "delivered",
                    "origin": "answer",
                    "sender_id": "DINKES",
                    "body": "Terima kasih, sudah kami tindak lanjuti.",
                }
            ],
        )
        self.assertEqual(self.simulator.health_state, "ok")

    def test_failing_number_puts_the_ticket_back_into_needs_action(self):
        ticket = self.receive("TDINKES obat habis", sender="081277770099").ticket_id
        reply, sms = self.answer(ticket)
        self.assertFalse(ticket.sms_needs_action, "answered and not failed yet")
        self.simulator._simulator_flush()
        self.env.invalidate_all()
        self.assertEqual(sms.state, "error")
        self.assertEqual(reply.sms_state, "failed")
        # The reason is stored in the regency's language, as for officers.
        Message = self.env["sms_center.message"]
        reason = Message.with_context(lang=Message._get_citizen_lang()).env._(
            "Simulated failure: the phone did not take the SMS."
        )
        self.assertEqual(reply.sms_failure_reason, reason)
        self.assertEqual(ticket.sms_answer_status, "failed")
        self.assertEqual(ticket.sms_answer_failure_reason, reason)
        self.assertTrue(ticket.sms_answered, "the officer did answer")
        self.assertTrue(ticket.sms_needs_action)
        inbox = self.env["helpdesk.ticket"].with_user(self.user_health)
        self.assertIn(
            ticket,
            inbox.search([("sms_needs_action", "=", True)]),
            "back in the officer's list",
        )
        log = self.Log.search([("sms_uuid", "=", reply.sms_uuid)])
        self.assertEqual(log.number, FAILING_PHONE)
        self.assertEqual(log.state, "failed")
        self.assertEqual(log.failure_reason, reason)
        # One tap: the latest answer goes again (and fails again here).
        ticket.with_user(self.user_health).action_resend_sms_answer()
        self.assertEqual(reply.send_count, 2)
        self.assertEqual(ticket.sms_answer_status, "pending")
        self.assertFalse(ticket.sms_needs_action)

    def test_test_numbers_never_reach_a_real_gateway(self):
        kannel = self.Gateway.create(
            {
                "name": "Real Kannel",
                "code": "t-real-kannel",
                "gateway_type": "kannel",
                "sequence": 0,
            }
        )
        self.assertEqual(self.Gateway._route_outbound(TEST_PHONE), self.simulator)
        self.assertEqual(self.Gateway._route_outbound("+6281298765432"), kannel)
        # Asking a real gateway by name does not help.
        self.env["sms_center.gateway.test"].create(
            {"gateway_id": kannel.id, "number": "0812-7777-0002", "body": "tes"}
        ).action_send()
        sms = self.env["sms.sms"].search([("number", "=", "+6281277770002")])
        self.assertFalse(sms.sms_center_gateway_id)
        # The simulator archived: its numbers fail rather than go elsewhere.
        self.simulator.active = False
        self.assertFalse(self.Gateway._route_outbound(TEST_PHONE))
        self.env["sms.sms"]._sms_center_route_new(self.Gateway._outbound_gateways())
        self.assertEqual(sms.state, "error")
        self.assertIn("simulator", sms.sms_center_failure_reason)
        self.assertFalse(sms.sms_center_gateway_id)

    def test_takes_every_number_only_when_told(self):
        citizen = "+6281298765432"
        self.env.ref("sms_center.demo_gateway_simulator").active = False
        self.assertFalse(self.Gateway._route_outbound(citizen))
        self.simulator.simulator_all_numbers = True
        self.assertEqual(self.Gateway._route_outbound(citizen), self.simulator)

    def test_numbers_are_checked(self):
        with self.assertRaises(ValidationError):
            self.simulator.simulator_numbers = "0812-7777-0001, hello"
        with self.assertRaises(ValidationError):
            self.simulator.simulator_failing_numbers = "+62*"
        with self.assertRaises(ValidationError):
            self.simulator.simulator_numbers = " , "


@tagged("post_install", "-at_install")
class TestSimulatorScreen(SimulatorCase):
    def test_a_citizen_sms_lands_in_the_inbox_marked_simulated(self):
        data = self.simulate("TDINKES obat di puskesmas habis")
        self.assertEqual(data["number"], TEST_PHONE)
        self.assertEqual(data["center_number"], "0812-2700-9999")
        sent = [row for row in data["conversation"] if row["direction"] == "in"][-1]
        self.assertEqual(sent["body"], "TDINKES obat di puskesmas habis")
        # The citizen's receipt (when receipts are on) shows on the phone.
        self.env["ir.config_parameter"].set_param("sms_center.receipt_enabled", "True")
        data = self.simulate("TDINKES vaksin masih ada?", number="0812-7777-0002")
        receipt = data["conversation"][-1]
        self.assertEqual((receipt["direction"], receipt["origin"]), ("out", "Receipt"))
        self.assertEqual(receipt["state"], "delivered")
        self.assertEqual(sent["routing"]["state"], "routed")
        self.assertIn("TDINKES", sent["routing"]["notes"][0])
        message = self.Log.browse(sent["id"]).message_id
        ticket = message.ticket_id
        self.assertEqual(sent["routing"]["ticket_id"], ticket.id)
        self.assertTrue(message.simulated)
        self.assertEqual(message.gateway_id, self.simulator)
        self.assertEqual(message.moderation_state, "excluded")
        self.assertTrue(ticket.sms_simulated)
        self.assertTrue(ticket.sms_publication_excluded, "never published")
        # A real ticket in the officer's inbox: the officer answers it...
        inbox = self.env["helpdesk.ticket"].with_user(self.user_health)
        self.assertIn(ticket, inbox.search([("sms_needs_action", "=", True)]))
        self.answer(ticket, "Stok obat dikirim besok.")
        # ...and the test phone receives the answer, delivered.
        data = self.Log.with_user(self.user_secretariat).simulator_load(
            self.simulator.id, TEST_PHONE
        )
        answer = data["conversation"][-1]
        self.assertEqual(answer["direction"], "out")
        self.assertEqual(answer["body"], "Stok obat dikirim besok.")
        self.assertEqual(answer["state"], "delivered")
        self.assertEqual(answer["sender"], "DINKES")
        self.assertEqual(ticket.sms_answer_status, "delivered")

    def test_unknown_keyword_gets_its_automatic_reply_at_once(self):
        data = self.simulate("HALO ini nomor apa", number="0812-7777-0002")
        sent, reply = data["conversation"][-2:]
        self.assertEqual(sent["routing"]["state"], "unknown")
        self.assertEqual(reply["direction"], "out")
        self.assertEqual(reply["state"], "delivered")
        self.assertEqual(reply["origin"], "Automatic reply")
        message = self.Log.browse(sent["id"]).message_id
        self.assertEqual(reply["body"], message.auto_reply_body)
        self.assertEqual(message.sms_state, "sent")
        self.assertTrue(message.sms_delivered)

    def test_only_test_numbers_and_only_the_secretariat(self):
        with self.assertRaises(UserError):
            self.simulate("TDINKES halo", number="081298765432")
        with self.assertRaises(AccessError):
            self.simulate("TDINKES halo", user=self.user_health)
        with self.assertRaises(AccessError):
            self.Log.with_user(self.user_health).simulator_load()
        with self.assertRaises(UserError):
            self.simulate("   ")
        self.assertFalse(self.Log.search([("number", "=", "+6281298765432")]))

    def test_numbers_to_pick_and_a_new_one(self):
        Log = self.Log.with_user(self.user_admin)
        data = Log.simulator_load(self.simulator.id)
        numbers = [n["number"] for n in data["numbers"]]
        self.assertEqual(numbers[:2], ["+6281277770001", "+6281277770002"])
        self.assertEqual(data["numbers"][0]["label"], "0812-7777-0001")
        self.assertTrue(data["number_is_test"])
        self.assertTrue(data["can_configure"])
        new = Log.simulator_new_number(self.simulator.id)
        self.assertTrue(new.startswith("+628127777"))
        self.assertNotIn(new, numbers)
        data = Log.simulator_load(self.simulator.id, "081298765432")
        self.assertFalse(data["number_is_test"])

    def test_clear_forgets_the_conversation_not_the_ticket(self):
        data = self.simulate("TDINKES obat habis")
        message = self.Log.browse(data["conversation"][0]["id"]).message_id
        data = self.Log.with_user(self.user_secretariat).simulator_clear(
            self.simulator.id, TEST_PHONE
        )
        self.assertEqual(data["conversation"], [])
        self.assertTrue(message.exists())
        self.assertTrue(message.ticket_id.exists())
