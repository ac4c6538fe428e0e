/** @odoo-module **/
import {registry} from "@web/core/registry";

function answer(text) {
    return [
        {
            content: "Reply by SMS",
            trigger: ".o_form_view button[name='action_open_sms_reply']:visible",
            run: "click",
        },
        {
            content: "The answer box is first and has the focus",
            trigger: ".modal div[name='body'] textarea:focus",
        },
        {
            content: "Write the answer",
            trigger: ".modal div[name='body'] textarea",
            run: `edit ${text}`,
        },
        {
            content: "Send",
            trigger: ".modal button[name='action_send']",
            run: "click",
        },
        {
            content: "A clear confirmation",
            trigger: ".modal .o_sms_center_composer .fa-check-circle",
        },
    ];
}

// An officer logs in, lands in the SMS inbox, answers, sees the
// confirmation and goes straight to the next SMS; used at desktop and
// phone (375 px) sizes.
registry.category("web_tour.tours").add("sms_center_reply_tour", {
    url: "/odoo",
    steps: () => [
        {
            content: "After logging in, the officer is in the inbox: open the SMS",
            trigger:
                ".o_kanban_record:contains('TOURKW'):contains('lampu jalan di desa'):not(:contains('TOURKW: lampu')), .o_data_row td[name='name']:contains('TOURKW: lampu jalan')",
            run: "click",
        },
        {
            content: "The citizen's SMS and the follow-up are shown once each",
            trigger:
                ".o_form_view .o_sms_center_citizen_sms:contains('TOURKW lampu jalan di desa Kalilunjar mati'):contains('tepatnya di depan balai desa')",
        },
        {
            content: "The citizen's follow-up is in the history (chatter) too",
            trigger: ".o-mail-Chatter .o-mail-Message:contains('tepatnya di depan balai desa')",
        },
        {
            content: "The chatter offers notes, not a message that would not reach the citizen",
            trigger: ".o-mail-Chatter:has(.o-mail-Chatter-logNote):not(:has(.o-mail-Chatter-sendMessage))",
        },
        {
            content: "Reply by SMS",
            trigger: ".o_form_view button[name='action_open_sms_reply']:visible",
            run: "click",
        },
        {
            content: "The answer box is first and has the focus",
            trigger: ".modal div[name='body'] textarea:focus",
        },
        {
            content: "Type an answer with an emoji",
            trigger: ".modal div[name='body'] textarea",
            run: "edit Terima kasih ✓",
        },
        {
            content: "One live counter: Unicode, as the server counts it",
            trigger:
                ".modal .o_sms_center_counter:contains('14 '):contains('1 SMS'):contains('Unicode')",
        },
        {
            content: "Only one counter",
            trigger: ".modal:not(:has(div[name='length_info'])):has(.o_sms_count)",
        },
        {
            content: "Counting in the browser is the server's counting",
            trigger: ".modal .o_sms_center_counter",
            run() {
                const {measureSms} = odoo.loader.modules.get("@sms_center/core/sms_length");
                const cases = [
                    ["a".repeat(160), "gsm7", 160, 1],
                    ["a".repeat(161), "gsm7", 161, 2],
                    ["€".repeat(80), "gsm7", 160, 1],
                    ["Terima kasih 🙏", "ucs2", 15, 1],
                    ["ā".repeat(71), "ucs2", 71, 2],
                ];
                for (const [text, encoding, units, parts] of cases) {
                    const got = measureSms(text);
                    if (got.encoding !== encoding || got.units !== units || got.parts !== parts) {
                        throw new Error(`${text.slice(0, 5)}: ${JSON.stringify(got)}`);
                    }
                }
            },
        },
        {
            content: "Write the answer",
            trigger: ".modal div[name='body'] textarea",
            run: "edit Terima kasih, petugas kami memperbaiki lampu besok pagi.",
        },
        {
            content: "The counter follows: GSM-7, one SMS",
            trigger:
                ".modal .o_sms_center_counter:contains('56 '):contains('1 SMS'):contains('GSM-7')",
        },
        {
            content: "Send",
            trigger: ".modal button[name='action_send']",
            run: "click",
        },
        {
            content: "A clear confirmation, and the next SMS one tap away",
            trigger: ".modal .o_sms_center_composer .fa-check-circle",
        },
        {
            content: "Go straight to the next SMS needing an answer",
            trigger: ".modal button[name='action_next']",
            run: "click",
        },
        {
            content: "The next SMS is open",
            trigger: ".o_form_view .o_sms_center_citizen_sms:contains('TOURKW tiang listrik miring')",
        },
        ...answer("Petugas PLN sudah kami hubungi."),
        {
            content: "Nothing else waits: no next button",
            trigger: ".modal:not(:has(button[name='action_next'])) .o_sms_center_composer",
        },
        {
            content: "Back to the SMS",
            trigger: ".modal .modal-footer button.btn-secondary",
            run: "click",
        },
        {
            content: "The ticket says answered, with the answer's delivery next to it",
            trigger:
                ".o_form_view:not(:has(.modal)) div[name='sms_status']:has(div[name='sms_answer_status'] .badge)",
        },
    ],
});
