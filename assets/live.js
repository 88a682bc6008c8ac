/* btcfolio: apply one refresh (the live update of pages/dashboard.py) in the browser.
 * The server keeps the session's last view and sends only what changed (components/
 * dashboard_view.py live_update): the card grid when the cards shown changed, else the changed
 * leaves of the header and card texts (delta), the status lines when they changed, the
 * rebalance table when its trades changed, and always the key of the view it now holds. */
window.dash_clientside = Object.assign({}, window.dash_clientside, {
    btcfolio: {
        applyLive: function (live) {
            const noUpdate = window.dash_clientside.no_update;
            const outputs = window.dash_clientside.callback_context.outputs_list;
            if (!live) {
                return outputs.map(function (out) {
                    return Array.isArray(out) ? out.map(function () { return noUpdate; })
                        : noUpdate;
                });
            }
            const has = function (key) { return Object.prototype.hasOwnProperty.call(live, key); };
            const delta = live.delta || {};
            const cards = live.full ? {} : (delta.cards || {});
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
            const pick = function (key) { return has(key) ? live[key] : noUpdate; };
            const rebalance = live.rebalance || [noUpdate, noUpdate];
            return [
                outputs[0].map(function (out) { return field(out, 0); }),
                outputs[1].map(function (out) { return field(out, 1); }),
                text('value'), text('usd'), text('alloc'), text('change', 0),
                text('change', 1), text('updated'),
                live.full ? live.cards : noUpdate,
                live.full ? live.pages : noUpdate,
                live.full ? live.pages <= 1 : noUpdate,
                pick('banner'), pick('fill'),
                rebalance[0], rebalance[1],
                pick('key')
            ];
        },
        rebalanceParams: function (target, mix, method, assetCap, categoryCap) {
            return {target: target, mix: !!mix, method: method, asset_cap: assetCap,
                    category_cap: categoryCap};
        }
    }
});
