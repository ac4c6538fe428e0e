/** @odoo-module **/
import {registry} from "@web/core/registry";

// The secretariat logs in and lands on its overview, taps the unknown
// keywords, and routes one to a unit from its visible button.
registry.category("web_tour.tours").add("sms_center_secretariat_tour", {
    url: "/odoo",
    steps: () => [
        {
            content: "The overview is the secretariat's first screen",
            trigger: ".o_sms_center_overview .o_sms_center_tile[data-key='to_answer']",
        },
        {
            content: "The unit's open SMS are counted",
            trigger: ".o_sms_center_overview .o_sms_center_units tr:contains('Tour Unit')",
        },
        {
            content: "One tap to the unknown keywords",
            trigger: ".o_sms_center_overview .o_sms_center_tile[data-key='unknown']",
            run: "click",
        },
        {
            content: "Route the SMS with its own button",
            trigger:
                ".o_kanban_record:contains('HALOTUR lampu') button[name='action_open_route_wizard'], .o_data_row:contains('HALOTUR lampu') button[name='action_open_route_wizard']",
            run: "click",
        },
        {
            content: "Choose the keyword",
            trigger: ".modal div[name='keyword_id'] select",
            run: "selectByLabel TOURKW",
        },
        {
            content: "Create the ticket",
            trigger: ".modal button[name='action_route']",
            run: "click",
        },
        {
            content: "The SMS has left the unknown keywords",
            trigger:
                ".o_action_manager:not(:has(.modal)):not(:has(.o_kanban_record:contains('HALOTUR lampu'))):not(:has(.o_data_row:contains('HALOTUR lampu')))",
        },
    ],
});
