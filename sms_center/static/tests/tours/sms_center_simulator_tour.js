/** @odoo-module **/
import {registry} from "@web/core/registry";

// Type SMS as a citizen on the simulator's test phone; see the routing, the
// automatic reply and, once answered from the ticket, the officer's answer
// delivered.
registry.category("web_tour.tours").add("sms_center_simulator_tour", {
    url: "/odoo/action-sms_center.action_sms_center_simulator",
    steps: () => [
        {
            content: "The test phone is ready",
            trigger: ".o_sms_center_simulator select.o_sms_center_sim_number",
        },
        {
            content: "Write as a citizen",
            trigger: ".o_sms_center_simulator textarea.o_sms_center_sim_text",
            run: "edit TOURKW tiang roboh di jalan desa",
        },
        {
            content: "Send",
            trigger: ".o_sms_center_simulator .o_sms_center_sim_send:enabled",
            run: "click",
        },
        {
            content: "The SMS went to the unit's inbox",
            trigger: ".o_sms_center_in .o_sms_center_routing[data-state='routed']:contains('TOURKW')",
        },
        {
            content: "An unknown word",
            trigger: ".o_sms_center_simulator textarea.o_sms_center_sim_text",
            run: "edit HALOO ini nomor apa",
        },
        {
            content: "Send it",
            trigger: ".o_sms_center_simulator .o_sms_center_sim_send:enabled",
            run: "click",
        },
        {
            content: "The automatic reply arrives on the phone, delivered",
            trigger:
                ".o_sms_center_phone_messages:has(.o_sms_center_routing[data-state='unknown']) > .o_sms_center_bubble_row.o_sms_center_out:last-child .fa-check-circle",
        },
        {
            content: "Open the ticket the first SMS created",
            trigger: ".o_sms_center_routing[data-state='routed'] .o_sms_center_open_ticket",
            run: "click",
        },
        {
            content: "Answer it",
            trigger: ".o_form_view button[name='action_open_sms_reply']:visible",
            run: "click",
        },
        {
            content: "Write the answer",
            trigger: ".modal div[name='body'] textarea",
            run: "edit Tim kami memeriksa tiang itu hari ini.",
        },
        {
            content: "Send",
            trigger: ".modal button[name='action_send']",
            run: "click",
        },
        {
            content: "Sent",
            trigger: ".modal .o_sms_center_composer .fa-check-circle",
        },
        {
            content: "Close the confirmation",
            trigger: ".modal .modal-footer button.btn-secondary",
            run: "click",
        },
        {
            content: "Back to the simulator",
            trigger: ".o_breadcrumb .breadcrumb-item:not(.active) a, .o_breadcrumb .o_back_button",
            run: "click",
        },
        {
            content: "The officer's answer is on the test phone, delivered",
            trigger:
                ".o_sms_center_out:has(.o_sms_center_bubble_text:contains('Tim kami memeriksa tiang itu hari ini.')):has(.fa-check-circle)",
        },
    ],
});
