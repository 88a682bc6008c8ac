/* btcfolio: apply a refresh's delta (changed leaves of the view) in the browser.
 * Server side: components/dashboard_view.py view_delta / apply_delta (same merge rules:
 * objects merge key by key; an object sent for an array sets items by index). */
window.dash_clientside = Object.assign({}, window.dash_clientside, {
    btcfolio: {
        applyDelta: function (delta, snapshot) {
            const noUpdate = window.dash_clientside.no_update;
            const outputs = window.dash_clientside.callback_context.outputs_list;
            if (!delta || !snapshot) {
                return outputs.map(function () { return noUpdate; });
            }
            const isObject = function (v) {
                return v !== null && typeof v === 'object';
            };
            const merge = function (target, patch) {
                Object.keys(patch).forEach(function (key) {
                    const value = patch[key];
                    if (isObject(value) && !Array.isArray(value) && isObject(target[key])) {
                        merge(target[key], value);
                    } else {
                        target[key] = value;
                    }
                });
            };
            const next = JSON.parse(JSON.stringify(snapshot));
            merge(next, delta);
            const cards = delta.cards || {};
            const field = function (out, item) {
                const card = cards[out.id.symbol];
                const change = card && card[out.id.field];
                return change && change[item] !== undefined ? change[item] : noUpdate;
            };
            const header = delta.header || {};
            const text = function (key, item) {
                const change = header[key];
                if (change === undefined) { return noUpdate; }
                if (item === undefined) { return change; }
                return change[item] !== undefined ? change[item] : noUpdate;
            };
            return [
                outputs[0].map(function (out) { return field(out, 0); }),
                outputs[1].map(function (out) { return field(out, 1); }),
                text('value'), text('usd'), text('alloc'), text('change', 0),
                text('change', 1), text('updated'), next
            ];
        }
    }
});
