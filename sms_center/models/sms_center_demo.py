import base64
from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import file_open

# The demo's story, relative to the moment the database is created: a few
# days of traffic across every state. Each SMS: hours ago, sender, text and,
# when answered, the answer, minutes until it was sent (the deadline is 3
# hours), the category set by the officer, and any moderation.
DEMO_SMS = [
    # Answered, most within the deadline, some late.
    {
        "hours": 90,
        "sender": "081390907070",
        "text": "DPUPR trotoar di Jl. Pemuda banyak yang rusak",
        "answer": "Sudah masuk rencana pemeliharaan tahun ini. Terima kasih.",
        "minutes": 100,
        "category": "complaint",
    },
    {
        "hours": 86,
        "sender": "085640403030",
        "text": "DISHUB usul halte di depan pasar Banjarnegara",
        "answer": "Usulan kami catat untuk kajian tahun depan.",
        "minutes": 170,
        "category": "suggestion",
    },
    {
        "hours": 80,
        "sender": "081227272727",
        "text": "KECBNA surat pengantar SKCK dari kecamatan masih perlu?",
        "answer": "Tidak perlu, cukup pengantar desa/kelurahan.",
        "minutes": 35,
        "category": "question",
    },
    {
        "hours": 76,
        "sender": "082121215656",
        "text": "DISDIK beasiswa untuk siswa SMA kurang mampu ada?",
        "answer": "Ada program PIP. Silakan hubungi sekolah masing-masing.",
        "minutes": 25,
        "category": "question",
    },
    {
        "hours": 74,
        "sender": "081315151616",
        "text": "KECWND jalan desa Tapen longsor sebagian",
        "answer": "Sudah kami teruskan ke DPUPR dan BPBD.",
        "minutes": 230,
        "category": "information",
    },
    {
        "hours": 70,
        "sender": "081327112233",
        "text": "BUPATI Pak Bupati, kapan jalan Desa Pagedongan diperbaiki? "
        "Sudah 2 tahun rusak.",
        "answer": "Terima kasih. Perbaikan dijadwalkan bulan depan oleh DPUPR.",
        "minutes": 150,
        "category": "complaint",
    },
    {
        "hours": 68,
        "sender": "085640221100",
        "text": "DINKES Puskesmas Wanadadi tutup jam 11 padahal jadwal sampai jam 14.",
        "answer": "Mohon maaf, sudah kami tegur. Jam layanan kembali normal mulai "
        "besok.",
        "minutes": 45,
        "category": "complaint",
    },
    {
        "hours": 66,
        "sender": "081227334455",
        "text": "dinkes: jadwal imunisasi campak di posyandu Kutabanjar kapan?",
        "answer": "Imunisasi campak Posyandu Kutabanjar: Kamis 09.00-11.00.",
        "minutes": 30,
        "category": "question",
    },
    {
        "hours": 60,
        "sender": "082136778899",
        "text": "DISDIK PPDB SMP tahun ini zonasi atau tes? Terima kasih",
        "answer": "PPDB SMP memakai jalur zonasi, afirmasi, mutasi dan prestasi.",
        "minutes": 260,
        "category": "question",
    },
    # The simulator reports this answer as not delivered: it waits in the
    # DPUPR officer's "needs action" list, with a one-tap resend.
    {
        "hours": 55,
        "sender": "089612345678",
        "text": "JALAN jembatan gantung di Desa Sijeruk miring, bahaya untuk "
        "anak sekolah!!",
        "answer": "Tim sudah meninjau lokasi; jembatan ditutup sementara.",
        "minutes": 90,
        "category": "complaint",
    },
    {
        "hours": 50,
        "sender": "081390001122",
        "text": "KTP saya sudah rekam 3 bulan belum jadi, nomor registrasi 3304xxxx",
        "answer": "Blangko tersedia, KTP-el dapat diambil di Disdukcapil mulai Senin.",
        "minutes": 120,
        "category": "question",
        "moderation": "excluded",
        "reason": "Memuat data pribadi (nomor registrasi kependudukan).",
    },
    {
        "hours": 47,
        "sender": "085712340987",
        "text": "DISHUB lampu merah perempatan Sokanandi mati sejak kemarin",
        "answer": "Terima kasih laporannya, petugas sedang memperbaiki.",
        "minutes": 20,
        "category": "complaint",
    },
    {
        "hours": 35,
        "sender": "085611117777",
        "text": "CAPIL pindah domisili dari Wonosobo ke Banjarnegara caranya?",
        "answer": "Bawa surat pindah dari Disdukcapil Wonosobo, KK dan KTP asli.",
        "minutes": 50,
        "category": "question",
    },
    {
        "hours": 20,
        "sender": "085601239876",
        "text": "BUPATI terima kasih pak, pelayanan RSUD sekarang cepat 👍",
        "answer": "Terima kasih atas apresiasinya.",
        "minutes": 60,
        "category": "information",
    },
    {
        "hours": 12,
        "sender": "081327778899",
        "text": "DPUPR saluran irigasi di Rakit tersumbat, sawah kekeringan",
        "answer": "Tim OP irigasi dikirim besok pagi ke Rakit.",
        "minutes": 300,
        "category": "complaint",
    },
    # Not answered: past the deadline (escalated to the secretariat and, by
    # SMS, to the Regional Secretary), due soon, or still on time.
    {
        "hours": 45,
        "sender": "081227009988",
        "text": "CAPIL syarat akta kelahiran untuk anak umur 5 tahun apa saja?",
    },
    {
        "hours": 33,
        "sender": "081329292828",
        "text": "DINKES ambulans desa Kalibening rusak mohon bantuan",
    },
    {
        "hours": 30,
        "sender": "081327445566",
        "text": "KECBNA mohon info jam pelayanan kecamatan hari Sabtu",
    },
    {
        "hours": 28,
        "sender": "087733334444",
        "text": "BUPATI saran: buat taman bermain anak di alun-alun",
    },
    {
        "hours": 26,
        "sender": "081225556677",
        "text": "KECWND sampah menumpuk di pasar Wanadadi, bau sekali 😷",
    },
    {
        "hours": 16,
        "sender": "081390901212",
        "text": "puskesmas antrean BPJS lama sekali, mohon ditambah loket",
    },
    {
        "hours": 9,
        "sender": "085622223333",
        "text": "KK anak saya belum masuk di KK, bagaimana?",
    },
    {
        "hours": 8,
        "sender": "087712341234",
        "text": "sehat obat di puskesmas Bawang kosong terus",
    },
    # A follow-up joins the citizen's open ticket.
    {
        "hours": 5,
        "sender": "081393337777",
        "text": "DISDIK guru honorer kapan gajinya cair?",
    },
    {
        "hours": 4,
        "sender": "081393337777",
        "text": "DISDIK maaf tambahan: sudah 3 bulan belum cair",
    },
    {
        "hours": 2.5,
        "sender": "082227776655",
        "text": "Dinkes. Apakah vaksin booster masih ada?",
    },
    {
        "hours": 2,
        "sender": "081225550011",
        "text": "BUPATI kapan ada pasar murah lagi di Banjarnegara?",
    },
    {
        "hours": 1,
        "sender": "085799990000",
        "text": "JALAN# lubang besar di depan SD 1 Klampok",
    },
    {
        "hours": 1,
        "sender": "081312121212",
        "text": "CAPIL bisa urus KK secara online?",
    },
    {
        "hours": 0.5,
        "sender": "085711112222",
        "text": "DISHUB angkot jurusan Wanadadi tidak ada setelah jam 5 sore",
    },
    # Unknown keywords (automatic reply), one routed by hand by the
    # secretariat; senders that cannot get an answer; spam.
    {"hours": 40, "sender": "081229998877", "text": "HALO ini nomor apa ya?"},
    {
        "hours": 22,
        "sender": "081338889999",
        "text": "DINKS puskesmas Punggelan tutup",
        "route_to": "dinkes",
    },
    {"hours": 18, "sender": "085612121313", "text": ""},
    {
        "hours": 15,
        "sender": "TELKOMSEL",
        "text": "Promo! Paket internet 30GB hanya Rp50rb. Ketik UL ON",
    },
    {
        "hours": 10,
        "sender": "3636",
        "text": "Sisa pulsa Anda Rp2.500. Isi ulang sekarang.",
    },
    {
        "hours": 6,
        "sender": "081200000001",
        "text": "BUPATI menangkan hadiah 100 juta klik link bit.ly/xxxx",
        "moderation": "spam",
        "reason": "Penipuan berkedok hadiah.",
        # Moderated as spam: its ticket is closed (nobody answers a scam).
    },
    {
        "hours": 3,
        "sender": "081200000002",
        "text": "PERTANIAN harga pupuk naik terus pak",
    },
    # Citizens asking the status of their SMS, and how to use the service.
    {"hours": 0.4, "sender": "081393337777", "text": "CEK"},
    {"hours": 0.3, "sender": "081229998877", "text": "info"},
]


class SmsCenterMessage(models.Model):
    _inherit = "sms_center.message"

    @api.model
    def _demo_populate(self):
        """Demo data: a few days of believable traffic, told through the real
        flows (receive, answer, route by hand, moderate, escalate, remind),
        delivered by the demo's simulator gateway."""
        now = fields.Datetime.now()
        # Demo data is loaded before the module's translations: load them now,
        # so that the demo's SMS to citizens use the Indonesian texts.
        lang = self._get_citizen_lang()
        if lang != "en_US":
            self.env["ir.module.module"]._load_module_terms(["sms_center"], [lang])
        self.env["ir.config_parameter"].sudo().set_param(
            "sms_center.escalate_to_superior", "True"
        )
        secretariat = self.env.ref("sms_center.demo_user_secretariat")
        Wizard = self.env["sms_center.reply.wizard"]
        answered = []
        for item in sorted(DEMO_SMS, key=lambda i: -i["hours"]):
            received_at = now - timedelta(hours=item["hours"])
            message = self.receive(
                item["sender"], item["text"], received_at=received_at
            )
            if item.get("route_to"):
                keyword = self.env.ref(f"sms_center.demo_keyword_{item['route_to']}")
                message.with_user(secretariat)._route_manually(keyword)
            if item.get("moderation"):
                self.env["sms_center.message.moderate"].with_user(secretariat).create(
                    {
                        "message_ids": [fields.Command.set(message.ids)],
                        "moderation_state": item["moderation"],
                        "reason": item["reason"],
                    }
                ).action_apply()
            ticket = message.ticket_id
            if not ticket or not item.get("answer"):
                continue
            officer = ticket.user_id
            category = self.env.ref(f"sms_center.category_{item['category']}")
            ticket.with_user(officer).category_id = category
            Wizard.with_user(officer).create(
                {"ticket_id": ticket.id, "body": item["answer"]}
            ).action_send()
            answered.append((ticket, received_at + timedelta(minutes=item["minutes"])))
        # Answers were written minutes after each SMS, not today.
        for ticket, answered_at in answered:
            reply = ticket.sms_reply_ids[:1]
            ticket.sms_first_answer_at = answered_at
            reply.mail_message_id.date = answered_at
            self.env.cr.execute(
                "UPDATE sms_center_reply SET create_date = %s WHERE id = %s",
                [answered_at, reply.id],
            )
        self.env["sms_center.reply"].invalidate_model(["create_date"])
        # What the crons do on a live center: escalate what is overdue, tell
        # officers about the last hour's SMS; the simulator delivers it all.
        Reminder = self.env["sms_center.reminder"]
        Reminder._cron_escalate_overdue()
        Reminder._cron_send_hourly_reminders()
        self.env.ref("sms_center.demo_gateway_simulator")._simulator_flush()
        for ticket, answered_at in answered:
            self.env.cr.execute(
                """UPDATE sms_center_simulator_message SET create_date = %s
                    WHERE sms_uuid = %s""",
                [answered_at, ticket.sms_reply_ids[:1].sms_uuid],
            )
        self.env["sms_center.simulator.message"].invalidate_model(["create_date"])
        self._demo_website()

    @api.model
    def _demo_website(self):
        """The demo website is the regency's SMS Center: its logo, the public
        SMS Masyarakat page as home page (Odoo's demo home page is empty), and
        Indonesian when the language is loaded. The demo regency gets the
        same logo: Odoo's "Your logo" placeholder would head the report to
        the Regent and the personal data statements."""
        with file_open("sms_center/static/description/icon.png", "rb") as logo:
            logo_b64 = base64.b64encode(logo.read())
        self.env.ref("base.main_company").logo = logo_b64
        website = self.env.ref("website.default_website", raise_if_not_found=False)
        if not website:
            return
        website.write({"logo": logo_b64, "homepage_url": "/sms-masyarakat"})
        lang = self.env["res.lang"]._lang_get("id_ID")
        if not (lang and lang.active):
            return
        website.write(
            {
                "name": "SMS Center Kabupaten Banjarnegara",
                "language_ids": [fields.Command.link(lang.id)],
                "default_lang_id": lang.id,
            }
        )
