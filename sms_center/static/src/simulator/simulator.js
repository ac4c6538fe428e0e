/** @odoo-module **/
import { _t } from "@web/core/l10n/translation";
import { deserializeDateTime, formatDateTime } from "@web/core/l10n/dates";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { Layout } from "@web/search/layout";
import {
    Component,
    onMounted,
    onPatched,
    onWillStart,
    onWillUnmount,
    useRef,
    useState,
} from "@odoo/owl";
import { measureSms } from "../core/sms_length";

const POLL_MS = 2500;

/**
 * The SMS simulator (R19): a test phone writes to the center as a citizen
 * and shows, as a conversation, what the center does with it (routing,
 * automatic replies, receipts, the officer's answer). Its SMS travel through
 * a simulator gateway: nothing leaves Odoo.
 */
export class SmsCenterSimulator extends Component {
    static template = "sms_center.Simulator";
    static components = { Layout };
    static props = ["*"];

    setup() {
        this.orm = useService("orm");
        this.action = useService("action");
        this.notification = useService("notification");
        this.conversationRef = useRef("conversation");
        this.textRef = useRef("text");
        const params = this.props.action?.params || {};
        this.state = useState({
            data: null,
            gatewayId: params.gateway_id || false,
            number: params.number || false,
            typedNumber: "",
            text: "",
            sending: false,
        });
        this.lastCount = 0;
        onWillStart(() => this.load());
        onMounted(() => {
            this.timer = setInterval(() => this.poll(), POLL_MS);
            this.scrollDown();
        });
        onPatched(() => {
            const count = this.state.data?.conversation.length || 0;
            if (count !== this.lastCount) {
                this.lastCount = count;
                this.scrollDown();
            }
        });
        onWillUnmount(() => clearInterval(this.timer));
    }

    async load(number = this.state.number) {
        const data = await this.orm.call("sms_center.simulator.message", "simulator_load", [], {
            gateway_id: this.state.gatewayId,
            number: number || false,
        });
        this.state.data = data;
        this.state.gatewayId = data.gateway_id;
        this.state.number = data.number;
    }

    async poll() {
        if (this.state.sending || document.hidden || !this.state.data?.gateway_id) {
            return;
        }
        await this.load();
    }

    scrollDown() {
        const el = this.conversationRef.el;
        if (el) {
            el.scrollTop = el.scrollHeight;
        }
    }

    get smsLength() {
        return measureSms(this.state.text);
    }

    get counterText() {
        const length = this.smsLength;
        return _t("%(chars)s characters · %(parts)s SMS · %(encoding)s", {
            chars: length.units,
            parts: this.state.text ? length.parts : 0,
            encoding: length.encoding === "gsm7" ? "GSM-7" : "Unicode",
        });
    }

    formatDate(value) {
        return formatDateTime(deserializeDateTime(value));
    }

    stateIcon(row) {
        return (
            {
                delivered: "fa-check-circle text-success",
                failed: "fa-exclamation-circle text-danger",
                sent: "fa-check text-muted",
            }[row.state] || "fa-clock-o text-muted"
        );
    }

    async onPickNumber(ev) {
        this.state.number = ev.target.value;
        await this.load(ev.target.value);
        this.textRef.el?.focus();
    }

    async onUseTypedNumber() {
        const number = this.state.typedNumber.trim();
        if (!number) {
            return;
        }
        this.state.typedNumber = "";
        this.state.number = number;
        await this.load(number);
    }

    async onNewNumber() {
        const number = await this.orm.call(
            "sms_center.simulator.message",
            "simulator_new_number",
            [this.state.gatewayId]
        );
        if (!number) {
            this.notification.add(
                _t("Every test number is in use: an administrator adds more on the simulator gateway."),
                { type: "warning" }
            );
            return;
        }
        this.state.number = number;
        await this.load(number);
        this.textRef.el?.focus();
    }

    async onClear() {
        this.state.data = await this.orm.call(
            "sms_center.simulator.message",
            "simulator_clear",
            [this.state.gatewayId, this.state.number]
        );
    }

    onKeydown(ev) {
        if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) {
            ev.preventDefault();
            this.send();
        }
    }

    async send() {
        const text = this.state.text;
        if (!text.trim() || this.state.sending) {
            return;
        }
        this.state.sending = true;
        try {
            this.state.data = await this.orm.call(
                "sms_center.simulator.message",
                "simulator_send",
                [this.state.gatewayId, this.state.number, text]
            );
            this.state.text = "";
        } finally {
            this.state.sending = false;
        }
        this.textRef.el?.focus();
    }

    openTicket(ticketId) {
        this.action.doAction({
            type: "ir.actions.act_window",
            res_model: "helpdesk.ticket",
            res_id: ticketId,
            views: [[this.state.data.ticket_view_id, "form"]],
            target: "current",
        });
    }

    openGatewaySetup() {
        this.action.doAction({
            type: "ir.actions.act_window",
            res_model: "sms_center.gateway",
            views: [[false, "form"]],
            target: "current",
            context: {
                default_gateway_type: "simulator",
                default_name: _t("SMS simulator"),
                default_code: "simulator",
                default_simulator_numbers: "0812-9999-0001, 0812-9999-0002, 0812-9999-0003",
            },
        });
    }
}

registry.category("actions").add("sms_center.simulator", SmsCenterSimulator);
