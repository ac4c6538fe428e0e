"""receive() as the integration API for scripts, over real XML-RPC and
JSON-RPC against Odoo's HTTP server (``HttpCase``), and gammu-smsd's
RunOnReceive script run as gammu-smsd runs it: a separate process, the
received SMS in its environment, the message's ids in gammu-smsd's backend
as its arguments.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import xmlrpc.client
from datetime import datetime, timedelta
from pathlib import Path

import pytz

from odoo import fields
from odoo.exceptions import ValidationError
from odoo.tests import Form, HttpCase, new_test_user, tagged
from odoo.tools import mute_logger

from .common import SmsCenterCase

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "gammu_smsd_receive.py"
SCRIPT_LOGIN = "t_smsd_script"
SCRIPT_PASSWORD = "script-password-1"
JAKARTA = pytz.timezone("Asia/Jakarta")
# Names gammu-smsd's files backend gives the two parts of one message.
FILE_ID = "IN20261130_081500_00_+6281298765432_00.txt"
FILE_ID_2 = "IN20261130_081500_00_+6281298765432_01.txt"


def gammu_environment(number, *texts, decoded=None, sms_class="-1", when=None):
    """The environment gammu-smsd gives its RunOnReceive program for a
    message of ``texts`` (one per physical part). ``decoded``: the
    DECODED_n_TEXT values; by default as Debian's gammu-smsd 1.42 sets them
    (seen running it on Gammu's dummy driver with the files backend): none
    for a one-part SMS, the joined text for a long one."""
    env = {"SMS_MESSAGES": str(len(texts)), "PHONE_ID": ""}
    for index, text in enumerate(texts, 1):
        env[f"SMS_{index}_NUMBER"] = number
        env[f"SMS_{index}_TEXT"] = text
        env[f"SMS_{index}_CLASS"] = sms_class
        env[f"SMS_{index}_REFERENCE"] = "0"
    if decoded is None:
        decoded = ["".join(texts)] if len(texts) > 1 else []
    env["DECODED_PARTS"] = str(len(decoded))
    for index, text in enumerate(decoded, 1):
        env[f"DECODED_{index}_TEXT"] = text
    if when:  # Gammu 1.44+: SMS_n_DATETIME, the SMS centre's time stamp
        env["SMS_1_DATETIME"] = when.isoformat()
    return env


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RpcCase(SmsCenterCase, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.gateway = cls.env["sms_center.gateway"].create(
            {
                "name": "gammu-smsd modem",
                "code": "t-smsd",
                "gateway_type": "gammu_smsd",
                "outbound_enabled": False,
                "receiving_numbers": "+6281100000001",
            }
        )
        cls.user_script = new_test_user(
            cls.env,
            login=SCRIPT_LOGIN,
            password=SCRIPT_PASSWORD,
            name="gammu-smsd script",
            groups="base.group_user,sms_center.group_inbound_script",
        )
        cls.db = cls.env.cr.dbname

    def setUp(self):
        super().setUp()
        self.tmp = Path(tempfile.mkdtemp(prefix="sms_center_rpc_"))
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        self.spool = self.tmp / "spool"

    def route(self):
        """Run the inbound router, as the scheduler does right after the
        script's store()."""
        self.Message._cron_route_inbound()
        self.env.invalidate_all()

    def message_count(self):
        self.env.invalidate_all()
        return self.Message.search_count([])

    def execute(self, login, password, method, args, kwargs=None):
        uid = self.xmlrpc_common.authenticate(self.db, login, password, {})
        return self.xmlrpc_object.execute_kw(
            self.db, uid, password, "sms_center.message", method, args, kwargs or {}
        )

    # -- the script ---------------------------------------------------------

    def write_config(self, name="gammu.conf", **overrides):
        values = {
            "url": self.base_url(),
            "database": self.db,
            "login": SCRIPT_LOGIN,
            "password": SCRIPT_PASSWORD,
            "gateway": self.gateway.code,
            "recipient": "+6281100000001",
            "timeout": "30",
            "retry_for": "0",
            "spool": str(self.spool),
        }
        values.update(overrides)
        path = self.tmp / name
        path.write_text(
            "[odoo]\n" + "".join(f"{key} = {value}\n" for key, value in values.items()),
            encoding="utf-8",
        )
        return path

    def run_script(self, environment, *args, config=None):
        """Run the script as gammu-smsd does: environment and arguments only."""
        self.env.flush_all()
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}
        env.update(environment)
        process = subprocess.run(
            [
                sys.executable,
                str(SCRIPT),
                "--config",
                str(config or self.write_config()),
            ]
            + list(args),
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        self.env.invalidate_all()
        return process

    def stored_id(self, process):
        self.assertEqual(process.returncode, 0, process.stdout + process.stderr)
        line = process.stdout.strip().splitlines()[0]
        self.assertIn("stored as SMS Center message", line)
        return int(line.rsplit(" ", 1)[1])

    def spooled(self, rejected=False):
        directory = self.spool / "rejected" if rejected else self.spool
        if not directory.is_dir():
            return []
        return sorted(p for p in directory.iterdir() if p.suffix == ".json")


@tagged("post_install", "-at_install")
class TestReceiveOverRpc(RpcCase):
    def test_xmlrpc_returns_the_id_and_a_repeat_stores_nothing(self):
        args = ["0812-9876-5432", "TDINKES obat habis di puskesmas Pagentan"]
        kwargs = {"gateway": "t-smsd", "gateway_message_id": "42"}
        messages_before = self.message_count()
        tickets_before = self.env["helpdesk.ticket"].search_count([])
        first = self.execute(SCRIPT_LOGIN, SCRIPT_PASSWORD, "receive", args, kwargs)
        self.assertIsInstance(first, int)
        self.assertEqual(self.message_count(), messages_before + 1)
        message = self.Message.browse(first)
        self.assertEqual(message.text, args[1])
        self.assertEqual(message.sender_e164, self.citizen_e164)
        self.assertEqual(message.gateway_id, self.gateway)
        self.assertEqual(message.gateway_message_id, "42")
        self.assertEqual(message.state, "routed")
        self.assertEqual(message.ticket_id.user_id, self.user_health)

        again = self.execute(SCRIPT_LOGIN, SCRIPT_PASSWORD, "receive", args, kwargs)
        self.assertEqual(again, first)
        self.assertEqual(self.message_count(), messages_before + 1)
        self.assertEqual(
            self.env["helpdesk.ticket"].search_count([]), tickets_before + 1
        )

    def test_store_over_xmlrpc_returns_the_id_to_route(self):
        args = ["081298765432", "TJALAN jembatan retak"]
        kwargs = {"gateway": "t-smsd", "gateway_message_id": "43"}
        first = self.execute(SCRIPT_LOGIN, SCRIPT_PASSWORD, "store", args, kwargs)
        self.assertIsInstance(first, int)
        message = self.Message.browse(first)
        self.assertEqual(message.state, "to_route")
        self.assertEqual(message.text, args[1])
        again = self.execute(SCRIPT_LOGIN, SCRIPT_PASSWORD, "store", args, kwargs)
        self.assertEqual(again, first)
        self.route()
        self.assertEqual(message.state, "routed")
        self.assertEqual(message.ticket_id.user_id, self.user_roads)

    def test_an_administrator_may_call_it_too(self):
        message_id = self.execute(
            "t_sms_admin", "t_sms_admin", "receive", ["081298765432", "TJALAN rusak"]
        )
        self.assertEqual(self.Message.browse(message_id).keyword_id, self.kw_roads)

    def test_python_callers_still_get_the_record(self):
        message = self.receive("TDINKES antrean panjang")
        self.assertEqual(message._name, "sms_center.message")
        self.assertEqual(message.text, "TDINKES antrean panjang")

    def test_jsonrpc_returns_the_id(self):
        uid = self.xmlrpc_common.authenticate(
            self.db, SCRIPT_LOGIN, SCRIPT_PASSWORD, {}
        )
        payload = {
            "jsonrpc": "2.0",
            "method": "call",
            "id": 1,
            "params": {
                "service": "object",
                "method": "execute_kw",
                "args": [
                    self.db,
                    uid,
                    SCRIPT_PASSWORD,
                    "sms_center.message",
                    "receive",
                    ["+6281298765432", "tsehat: bidan desa tidak ada"],
                    {
                        "gateway": self.gateway.id,
                        "gateway_message_id": "json-1",
                        "received_at": "2026-01-05T09:30:00+07:00",
                    },
                ],
            },
        }
        self.env.flush_all()
        response = self.opener.post(
            f"{self.base_url()}/jsonrpc", json=payload, timeout=30
        ).json()
        self.assertNotIn("error", response)
        message = self.Message.browse(response["result"])
        self.env.invalidate_all()
        self.assertIsInstance(response["result"], int)
        self.assertEqual(message.keyword_id, self.kw_health)
        self.assertEqual(message.gateway_message_id, "json-1")
        self.assertEqual(message.received_at, datetime(2026, 1, 5, 2, 30))

    @mute_logger("odoo.http")
    def test_wrong_password_is_a_clear_fault_and_stores_nothing(self):
        uid = self.user_script.id
        before = self.message_count()
        with self.assertRaises(xmlrpc.client.Fault) as caught:
            self.xmlrpc_object.execute_kw(
                self.db,
                uid,
                "not-the-password",
                "sms_center.message",
                "receive",
                ["081298765432", "TDINKES coba"],
                {"gateway": "t-smsd", "gateway_message_id": "wrong-1"},
            )
        self.assertEqual(caught.exception.faultCode, 3)  # access denied
        self.assertIn("Access Denied", caught.exception.faultString)
        self.assertEqual(self.message_count(), before)

    @mute_logger("odoo.http")
    def test_an_account_without_the_right_is_refused(self):
        before = self.message_count()
        with self.assertRaises(xmlrpc.client.Fault) as caught:
            self.execute(
                "t_plain", "t_plainx", "receive", ["081298765432", "TDINKES coba"]
            )
        self.assertEqual(caught.exception.faultCode, 4)  # access error
        self.assertIn("inbound SMS scripts", caught.exception.faultString)
        self.assertEqual(self.message_count(), before)

    @mute_logger("odoo.http")
    def test_the_script_account_reads_nothing(self):
        self.receive("TDINKES data warga")
        with self.assertRaises(xmlrpc.client.Fault) as caught:
            self.execute(
                SCRIPT_LOGIN, SCRIPT_PASSWORD, "search_read", [[]], {"limit": 1}
            )
        self.assertEqual(caught.exception.faultCode, 4)


@tagged("post_install", "-at_install")
class TestGammuSmsdScript(RpcCase):
    def test_one_sms_is_stored_with_its_gammu_id(self):
        when = JAKARTA.localize(datetime.now().replace(microsecond=0)) - timedelta(
            minutes=7
        )
        text = "TDINKES Puskesmas Karangkobar tutup jam 10 pagi"
        process = self.run_script(
            gammu_environment("+6281298765432", text, when=when), FILE_ID
        )
        message = self.Message.browse(self.stored_id(process))
        self.assertIn(f"gammu id(s) {FILE_ID}, 1 part(s), class -1", process.stdout)
        self.assertEqual(message.text, text)
        self.assertEqual(message.sender_e164, self.citizen_e164)
        self.assertEqual(message.gateway_id, self.gateway)
        self.assertEqual(message.gateway_message_id, FILE_ID)
        self.assertEqual(message.recipient, "+6281100000001")
        self.assertEqual(
            message.received_at, when.astimezone(pytz.utc).replace(tzinfo=None)
        )
        # Stored by store(): the inbound router routes it right after.
        self.assertEqual(message.state, "to_route")
        self.route()
        self.assertEqual(message.state, "routed")
        self.assertEqual(message.ticket_id.user_id, self.user_health)
        # What the script hands over is this gateway's health (R14).
        self.assertTrue(self.gateway.last_success_at)
        self.assertEqual(self.gateway.health_state, "ok")

    def test_a_repeated_hand_over_stores_nothing_new(self):
        environment = gammu_environment("081298765432", "TJALAN jembatan putus")
        first = self.stored_id(self.run_script(environment, "1234"))
        self.route()
        messages = self.message_count()
        tickets = self.env["helpdesk.ticket"].search_count([])
        self.assertEqual(self.stored_id(self.run_script(environment, "1234")), first)
        self.assertEqual(self.message_count(), messages)
        self.assertEqual(self.env["helpdesk.ticket"].search_count([]), tickets)
        self.assertEqual(self.Message.browse(first).gateway_message_id, "1234")

    def test_a_long_sms_is_stored_whole(self):
        part1 = "TDINKES " + "a" * 145
        part2 = "b" * 40 + " selesai"
        message = self.Message.browse(
            self.stored_id(
                self.run_script(
                    gammu_environment("081298765432", part1, part2),
                    FILE_ID,
                    FILE_ID_2,
                )
            )
        )
        self.assertEqual(message.text, part1 + part2)
        self.assertEqual(message.gateway_message_id, f"{FILE_ID} {FILE_ID_2}")
        # Parts Gammu could not join (one missing after MultipartTimeout):
        # the parts' own texts, in order.
        message = self.Message.browse(
            self.stored_id(
                self.run_script(
                    gammu_environment(
                        "081298765432", "TJALAN bagian satu ", "dua", decoded=[]
                    ),
                    "77",
                    "78",
                )
            )
        )
        self.assertEqual(message.text, "TJALAN bagian satu dua")

    def test_unicode_and_control_characters_arrive_exactly(self):
        # A form feed (GSM 7-bit "page break") cannot travel in XML 1.0.
        text = "TDINKES jalan ambles 🙏 ā\x0cbaris baru"
        message = self.Message.browse(
            self.stored_id(
                self.run_script(
                    gammu_environment("081298765432", text, sms_class="0"), "9"
                )
            )
        )
        self.assertEqual(message.text, text)

    def test_wrong_credentials_store_nothing_and_keep_the_sms(self):
        environment = gammu_environment("081298765432", "TDINKES obat kosong")
        before = self.message_count()
        process = self.run_script(
            environment, "501", config=self.write_config(password="wrong")
        )
        self.assertEqual(process.returncode, 77, process.stdout + process.stderr)
        self.assertIn(
            f"refused the login '{SCRIPT_LOGIN}' on database '{self.db}': "
            "wrong login or password",
            process.stderr,
        )
        self.assertIn("kept in", process.stderr)
        self.assertEqual(self.message_count(), before)
        spooled = self.spooled()
        self.assertEqual(len(spooled), 1)
        self.assertEqual(
            json.loads(spooled[0].read_text(encoding="utf-8"))["gateway_message_id"],
            "501",
        )
        # Once the password is right, cron's --flush-spool hands it over.
        process = self.run_script({}, "--flush-spool")
        self.assertEqual(process.returncode, 0, process.stdout + process.stderr)
        self.assertIn("stored as SMS Center message", process.stdout)
        self.assertEqual(self.spooled(), [])
        message = self.Message.search([("gateway_message_id", "=", "501")])
        self.assertEqual(message.text, "TDINKES obat kosong")
        self.assertEqual(message.gateway_id, self.gateway)

    @mute_logger("odoo.http")
    def test_an_account_without_the_right_is_refused(self):
        before = self.message_count()
        process = self.run_script(
            gammu_environment("081298765432", "TDINKES coba"),
            "502",
            config=self.write_config(login="t_plain", password="t_plainx"),
        )
        self.assertEqual(process.returncode, 77, process.stdout + process.stderr)
        self.assertIn("refused the account 't_plain'", process.stderr)
        self.assertIn("inbound SMS scripts", process.stderr)
        self.assertEqual(self.message_count(), before)

    def test_unreachable_odoo_keeps_the_sms_for_the_next_hand_over(self):
        down = self.write_config("down.conf", url=f"http://127.0.0.1:{free_port()}")
        process = self.run_script(
            gammu_environment("081298765432", "TJALAN lampu mati"), "601", config=down
        )
        self.assertEqual(process.returncode, 75, process.stdout + process.stderr)
        self.assertIn("not handed over", process.stderr)
        self.assertEqual(len(self.spooled()), 1)
        # The next SMS reaches Odoo, and brings the kept one along.
        stored = self.stored_id(
            self.run_script(gammu_environment("081298765432", "TJALAN banjir"), "602")
        )
        self.assertEqual(self.Message.browse(stored).text, "TJALAN banjir")
        kept = self.Message.search([("gateway_message_id", "=", "601")])
        self.assertEqual(kept.text, "TJALAN lampu mati")
        self.assertEqual(self.spooled(), [])

    @mute_logger("odoo.http")
    def test_an_sms_odoo_refuses_is_set_aside(self):
        before = self.message_count()
        process = self.run_script(
            gammu_environment("", "TDINKES tanpa pengirim"), "701"
        )
        self.assertEqual(process.returncode, 65, process.stdout + process.stderr)
        self.assertIn("An inbound SMS needs a sender.", process.stderr)
        self.assertEqual(self.message_count(), before)
        self.assertEqual(self.spooled(), [])
        self.assertEqual(len(self.spooled(rejected=True)), 1)

    def test_delivery_reports_are_not_citizens_sms(self):
        before = self.message_count()
        for environment in (
            # gammu-smsd 1.42 with DeliveryReport = sms: the report's text
            gammu_environment("081298765432", "Delivered"),
            # Gammu 1.44+ marks reports
            dict(
                gammu_environment("081298765432", "Failed"),
                SMS_1_SMSC_DATETIME="2026-11-30T08:00:00+07:00",
            ),
        ):
            process = self.run_script(environment, "801")
            self.assertEqual(process.returncode, 0, process.stdout + process.stderr)
            self.assertIn("is a delivery report", process.stdout)
        self.assertEqual(self.message_count(), before)

    def test_run_without_an_sms_explains_itself(self):
        process = self.run_script({})
        self.assertEqual(process.returncode, 64)
        self.assertIn("RunOnReceive", process.stderr)
        process = self.run_script({}, config=self.write_config(gateway="", password=""))
        self.assertEqual(process.returncode, 78)
        self.assertIn("lacks password, gateway", process.stderr)


@tagged("post_install", "-at_install")
class TestGammuSmsdGateway(SmsCenterCase):
    def test_a_gammu_smsd_gateway_only_receives(self):
        Gateway = self.env["sms_center.gateway"]
        with self.assertRaises(ValidationError):
            Gateway.create(
                {"name": "smsd", "code": "t-smsd-send", "gateway_type": "gammu_smsd"}
            )
        form = Form(Gateway)
        form.name = "smsd"
        form.code = "t-smsd-form"
        self.assertTrue(form.outbound_enabled)
        form.gateway_type = "gammu_smsd"
        self.assertFalse(form.outbound_enabled)
        gateway = form.save()
        self.assertNotIn(gateway, Gateway._outbound_gateways())

    def test_only_its_sms_count_as_contact(self):
        Gateway = self.env["sms_center.gateway"]
        smsd = Gateway.create(
            {
                "name": "smsd",
                "code": "t-smsd-health",
                "gateway_type": "gammu_smsd",
                "outbound_enabled": False,
            }
        )
        kannel = Gateway.create(
            {"name": "k", "code": "t-k-health", "outbound_enabled": False}
        )
        self.receive("TDINKES satu", gateway=kannel, gateway_message_id="k1")
        self.assertFalse(kannel.last_success_at)
        self.assertEqual(smsd.health_state, "unknown")
        self.receive("TDINKES dua", gateway="t-smsd-health", gateway_message_id="s1")
        smsd.invalidate_recordset()
        self.assertEqual(smsd.health_state, "ok")
        self.assertLessEqual(smsd.last_success_at, fields.Datetime.now())
