/** @odoo-module **/
import {registry} from "@web/core/registry";

// A visitor, not logged in, opens "SMS Masyarakat" from the website's menu,
// searches a word, filters by a unit and reads one question with its answer
// and the masked number; at desktop and phone (375 px) sizes.
registry.category("web_tour.tours").add("sms_center_publication_tour", {
    url: "/",
    steps: () => [
        {
            content: "On a phone, open the website's menu",
            trigger: "header button[data-bs-target='#top_menu_collapse_mobile']",
            run: "click",
            isActive: ["mobile"],
        },
        {
            content: "Open SMS Masyarakat from the menu",
            trigger: "header a.nav-link[href='/sms-masyarakat']:visible",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "The list of published questions is shown",
            trigger: "form.o_sms_search",
        },
        {
            content: "Search a word",
            trigger: "form.o_sms_search input[name='q']",
            run: "edit kalilunjar",
        },
        {
            content: "Run the search",
            trigger: "form.o_sms_search button[type='submit']",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "The question is found",
            trigger: ".o_sms_question:contains('lampu jalan webtest')",
        },
        {
            content: "Filter by its unit",
            trigger: "form.o_sms_search select[name='unit']",
            run: "selectByLabel Web Test Unit",
        },
        {
            content: "Apply the filter",
            trigger: "form.o_sms_search button[type='submit']",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "Only the unit's questions are listed",
            trigger:
                ".o_sms_question:contains('lampu jalan webtest') .o_sms_unit:contains('Web Test Unit')",
        },
        {
            content: "Open the question",
            trigger: ".o_sms_question:contains('lampu jalan webtest') a.o_sms_question_link",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "The sender's number is masked",
            trigger: ".o_sms_question .o_sms_sender:contains('0813****666')",
        },
        {
            content: "The NIK in the question is masked",
            trigger: ".o_sms_question_text:contains('3304**********12')",
        },
        {
            content: "The officer's answer is shown",
            trigger: ".o_sms_answer:contains('Lampu diperbaiki besok pagi oleh webtest.')",
        },
        {
            content: "A link leads back to the list",
            trigger: "a.o_sms_back[href='/sms-masyarakat']",
        },
    ],
});
