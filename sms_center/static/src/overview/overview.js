/** @odoo-module **/
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { Layout } from "@web/search/layout";
import { Component, onWillStart, useState } from "@odoo/owl";

/**
 * The secretariat's first screen: the work across units (to answer, past
 * the deadline, answers not delivered, unknown keywords, SMS to moderate,
 * answers waiting for a gateway) and the same by unit, each figure one tap
 * from its list. Administrators also see the gateways.
 */
export class SmsCenterOverview extends Component {
    static template = "sms_center.Overview";
    static components = { Layout };
    static props = ["*"];

    setup() {
        this.orm = useService("orm");
        this.action = useService("action");
        this.state = useState({ data: null });
        onWillStart(() => this.load());
    }

    async load() {
        this.state.data = await this.orm.call("sms_center.overview", "get_overview", []);
    }

    open(action) {
        if (action) {
            this.action.doAction(action);
        }
    }

    tileClass(tile) {
        if (!tile.count) {
            return "border-success-subtle";
        }
        return `border-${tile.style}`;
    }

    countClass(tile) {
        return tile.count ? `text-${tile.style}` : "text-success";
    }
}

registry.category("actions").add("sms_center.overview", SmsCenterOverview);
