from odoo.tests import TransactionCase, new_test_user


class SmsCenterCase(TransactionCase):
    """Shared fixtures: two units, their keywords and officers, a secretariat
    member and an administrator, all ordinary (non-admin) users."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=False))
        cls.Message = cls.env["sms_center.message"]
        cls.Keyword = cls.env["sms_center.keyword"]
        cls.Officer = cls.env["sms_center.officer"]
        cls.team_health = cls.env["helpdesk.ticket.team"].create(
            {"name": "Test Health Unit"}
        )
        cls.team_roads = cls.env["helpdesk.ticket.team"].create(
            {"name": "Test Roads Unit"}
        )
        cls.user_health = new_test_user(
            cls.env,
            login="t_officer_health",
            name="Health Officer",
            groups="sms_center.group_officer",
        )
        cls.user_roads = new_test_user(
            cls.env,
            login="t_officer_roads",
            name="Roads Officer",
            groups="sms_center.group_officer",
        )
        cls.user_successor = new_test_user(
            cls.env,
            login="t_officer_successor",
            name="Successor Officer",
            groups="sms_center.group_officer",
        )
        cls.user_secretariat = new_test_user(
            cls.env,
            login="t_secretariat",
            name="Secretariat Member",
            groups="sms_center.group_secretariat",
        )
        cls.user_admin = new_test_user(
            cls.env,
            login="t_sms_admin",
            name="SMS Administrator",
            groups="sms_center.group_admin",
        )
        cls.user_plain = new_test_user(
            cls.env, login="t_plain", name="Plain Employee", groups="base.group_user"
        )
        cls.officer_health = cls.Officer.create(
            {
                "user_id": cls.user_health.id,
                "notification_mobile": "0812-1111-2222",
                "sender_id": "DINKES",
                "team_id": cls.team_health.id,
            }
        )
        cls.officer_roads = cls.Officer.create(
            {
                "user_id": cls.user_roads.id,
                "notification_mobile": "+62 813-3333-4444",
                "team_id": cls.team_roads.id,
            }
        )
        cls.officer_successor = cls.Officer.create(
            {"user_id": cls.user_successor.id, "notification_mobile": "6285755556666"}
        )
        cls.kw_health = cls.Keyword.create(
            {
                "name": "TDINKES",
                "team_id": cls.team_health.id,
                "officer_ids": [(6, 0, cls.officer_health.ids)],
                "alias_ids": [(0, 0, {"name": "TSEHAT"})],
            }
        )
        cls.kw_roads = cls.Keyword.create(
            {
                "name": "TJALAN",
                "team_id": cls.team_roads.id,
                "officer_ids": [(6, 0, cls.officer_roads.ids)],
                "sender_id": "DPUPR",
            }
        )
        # Run pending tracking now, so that tests only see their own changes.
        cls.env.flush_all()
        cls.env.cr.precommit.run()
        cls.citizen = "081298765432"
        cls.citizen_e164 = "+6281298765432"

    def receive(self, text, sender=None, **kwargs):
        return self.Message.receive(sender or self.citizen, text, **kwargs)

    def sms_for(self, record):
        """Queued sms.sms posted on ``record``'s chatter."""
        return self.env["sms.sms"].search(
            [("mail_message_id", "in", record.message_ids.ids)], order="id"
        )
