'use strict';
'require view';
'require rpc';
'require poll';
'require dom';

/* The daemon's own ubus object; the reply formats are those of `ubus call ndpresponder`. */
var callStatus = rpc.declare({
	object: 'ndpresponder',
	method: 'status',
	expect: { '': {} }
});

var callExplain = rpc.declare({
	object: 'ndpresponder',
	method: 'explain',
	params: [ 'address', 'interface' ],
	expect: { '': {} },
	reject: true
});

/* Why a solicitation was not answered, by the daemon's counter name. */
var dropLabels = {
	truncated: _('Truncated frame'),
	fragment: _('IPv6 fragment'),
	hop_limit: _('Hop limit not 255'),
	checksum: _('Bad checksum'),
	code: _('ICMPv6 code not 0'),
	icmp_length: _('ICMPv6 message too short'),
	multicast_target: _('Multicast target'),
	option_length: _('Bad option length'),
	dad_destination: _('DAD not to a solicited-node group'),
	dad_source_lladdr: _('DAD with a link-layer address'),
	multicast_source: _('Multicast source'),
	own_mac: _('Sent from our own MAC'),
	own_address: _('Address of this host'),
	out_of_range: _('Outside every range'),
	excluded: _('Excluded'),
	not_downstream: _('Route not via a downstream device'),
	unknown_host: _('No such host known downstream'),
	rate_limit: _('Uplink rate limit'),
	source_rate_limit: _('Per-source rate limit')
};

var stateLabels = {
	armed: _('Answering'),
	down: _('Link down'),
	absent: _('Device absent'),
	failed: _('Failed')
};

var stateColors = {
	armed: '#2e7d32',
	down: '#9e9e9e',
	absent: '#9e9e9e',
	failed: '#c62828'
};

function badge(text, color) {
	return E('span', {
		'class': 'label',
		'style': 'display:inline-block;padding:1px 8px;border-radius:3px;color:#fff;background:' + color
	}, [ text ]);
}

function row(title, value) {
	return E('tr', { 'class': 'tr' }, [
		E('td', { 'class': 'td left', 'style': 'width:33%' }, [ title ]),
		E('td', { 'class': 'td left' }, Array.isArray(value) ? value : [ value ])
	]);
}

function formatUptime(seconds) {
	var d = Math.floor(seconds / 86400),
	    h = Math.floor(seconds / 3600) % 24,
	    m = Math.floor(seconds / 60) % 60,
	    s = seconds % 60;

	return (d ? d + 'd ' : '') + (d || h ? h + 'h ' : '') + (d || h || m ? m + 'm ' : '') + s + 's';
}

/* The drops as one horizontal bar per reason that occurred, longest first. */
function dropChart(drops) {
	var reasons = Object.keys(drops || {}).filter(function(k) { return drops[k] > 0; });

	if (!reasons.length)
		return E('em', { 'class': 'ndpr-no-drops' }, [ _('No solicitation was dropped.') ]);

	reasons.sort(function(a, b) { return drops[b] - drops[a]; });

	var max = drops[reasons[0]];

	return E('div', { 'class': 'ndpr-drops' }, reasons.map(function(k) {
		return E('div', { 'class': 'ndpr-drop', 'data-reason': k, 'style': 'display:flex;align-items:center;margin:2px 0' }, [
			E('span', { 'style': 'flex:0 0 16em' }, [ dropLabels[k] || k ]),
			E('span', { 'style': 'flex:1 1 auto;background:#eee;height:1em;margin-right:0.5em' }, [
				E('span', {
					'class': 'ndpr-bar',
					'style': 'display:block;height:100%;background:#1976d2;width:' + Math.max(1, Math.round(drops[k] * 100 / max)) + '%'
				})
			]),
			E('span', { 'class': 'ndpr-count', 'style': 'flex:0 0 6em;text-align:right' }, [ String(drops[k]) ])
		]);
	}));
}

var hostsLabels = {
	any: _('any address'),
	known: _('known hosts'),
	probe: _('known or probed hosts')
};

/* Where a range comes from, as status and explain name it. */
function origin(r) {
	if (r.origin == 'route')
		return _('route via') + ' ' + r.device;

	if (r.origin == 'netifd')
		return _('from netifd interface') + ' ' + r.interface +
			(r.host_devices && r.host_devices.length ? ', ' + _('hosts on') + ' ' + r.host_devices.join(' ') : '');

	return r.origin == 'static' ? _('configured') : r.origin;
}

function renderRange(r) {
	return E('div', { 'class': 'ndpr-range', 'data-origin': r.origin }, [
		E('code', [ r.range ]), ' \u2014 ' + origin(r) + ', ' + (hostsLabels[r.hosts] || r.hosts)
	]);
}

function renderDownstream(d) {
	var note = d.present === false ? _('absent') : d.link_up === false ? _('down') : null;

	return d.device + (note ? ' (' + note + ')' : '');
}

/* "sent 3, refused 1": the counters of a table, by the daemon's names, in this order. */
function counts(table, labels) {
	return Object.keys(labels).filter(function(k) { return table[k] != null; }).map(function(k) {
		return labels[k] + ' ' + table[k];
	}).join(', ');
}

function renderUplink(u) {
	var c = u.counters || {},
	    state = [ badge(stateLabels[u.state] || u.state, stateColors[u.state] || '#9e9e9e') ],
	    ranges = (u.ranges || []).map(renderRange),
	    rows;

	if (u.error)
		state.push(' ', E('span', { 'class': 'ndpr-error' }, [ u.error ]));

	if (u.ranges_not_shown)
		ranges.push(E('div', [ _('and more routed ranges:') + ' ' + u.ranges_not_shown ]));

	if (!ranges.length)
		ranges.push(E('em', [ _('nothing yet') ]));

	(u.excludes || []).forEach(function(p) {
		ranges.push(E('div', [ _('except') + ' ' + p ]));
	});

	rows = [
		row(_('State'), state),
		row(_('Device'), u.device + (u.link_up === false ? ' (' + _('down') + ')' : '')),
		row(_('Interface'), u.interface || '-'),
		row(_('MAC address'), u.mac || '-'),
		row(_('Answers for'), E('div', { 'class': 'ndpr-ranges' }, ranges))
	];

	if ((u.prefix_from || []).length)
		rows.push(row(_('Prefixes from netifd'), u.prefix_from.join(', ')));

	if ((u.downstreams || []).length) {
		rows.push(row(_('Downstream devices'), u.downstreams.map(renderDownstream).join(', ')));
		rows.push(row(_('Known hosts downstream'), E('span', { 'class': 'ndpr-known' }, [ String(u.known_hosts || 0) ])));
	}

	if (u.probes)
		rows.push(row(_('Probes'), E('span', { 'class': 'ndpr-probes' }, [ counts(u.probes, {
			in_flight: _('in flight'), sent: _('sent'), answered: _('answered'),
			unanswered: _('unanswered'), refused: _('refused')
		}) ])));

	if (u.announcements)
		rows.push(row(_('Announcements'), E('span', { 'class': 'ndpr-announcements' }, [ counts(u.announcements, {
			sent: _('sent'), refused: _('refused (over the rate)'),
			sweeps: _('sweeps of every host'), swept: _('hosts announced by sweeps')
		}) + (u.announcements.sweep_pending ? ', ' + _('a sweep in progress') : '') ])));

	return E('div', { 'class': 'cbi-section ndpr-uplink', 'data-uplink': u.name }, [
		E('h3', [ u.name + ' (' + u.device + ')' ]),
		E('table', { 'class': 'table' }, rows.concat([
			row(_('Advertisements'), [
				_('source') + ': ' + u.source + ', ' +
				_('Router flag') + ': ' + (u.router ? _('on') : _('off')) + ', ' +
				_('Override flag') + ': ' + (u.override ? _('on') : _('off'))
			]),
			row(_('Solicitations received'), E('span', { 'class': 'ndpr-ns' }, [ String(c.ns_received) ])),
			row(_('Advertisements sent'), E('span', { 'class': 'ndpr-na' }, [ String(c.na_sent) ])),
			row(_('Send errors'), String(c.send_errors)),
			row(_('Dropped'), dropChart(c.drops))
		]))
	]);
}

/* "5 of 16384": a kernel table the daemon mirrors, with what did not fit. */
function tableSize(t) {
	if (!t)
		return '-';

	return t.count + ' ' + _('of') + ' ' + t.limit + (t.refused ? ', ' + t.refused + ' ' + _('left out (full)') : '');
}

function renderDaemon(st) {
	var rows = [
		row(_('Version'), st.version || '-'),
		row(_('Uptime'), formatUptime(st.uptime || 0)),
		row(_('Service'), st.enabled ? _('enabled') : _('disabled in the global settings')),
		row(_('Configuration'), st.config || '-'),
		row(_('Reloads'), String(st.reloads || 0)),
		row(_('Routes followed'), E('span', { 'class': 'ndpr-routes' }, [ tableSize(st.routes) ])),
		row(_('Neighbour entries followed'), E('span', { 'class': 'ndpr-hosts' }, [ tableSize(st.hosts) ]))
	];

	/* How the watch on netifd stands, where an uplink takes prefixes from it. */
	if (st.netifd && (st.uplinks || []).some(function(u) { return (u.prefix_from || []).length; }))
		rows.push(row(_('netifd'), E('span', { 'class': 'ndpr-netifd' }, [
			st.netifd.state + ', ' + _('dumps read') + ' ' + (st.netifd.dumps || 0) +
			(st.netifd.error ? ', ' + _('last error') + ': ' + st.netifd.error : '')
		])));

	if (st.config_error)
		rows.push(row(_('Configuration refused'), E('span', { 'class': 'ndpr-error' }, [ st.config_error ])));

	return E('table', { 'class': 'table' }, rows);
}

function renderStatus(st) {
	if (!st || !st.version)
		return E('em', [ _('The ndpresponder service is not running.') ]);

	var uplinks = (st.uplinks || []).map(renderUplink);

	if (!uplinks.length)
		uplinks.push(E('em', [ _('No uplink is configured.') ]));

	return E('div', [ renderDaemon(st) ].concat(uplinks));
}

/* The explain reply: per uplink whether it answers, why, and the range with its origin
 * (for a routed range the route's device is `route_device`). */
function renderExplanation(res) {
	var list = res.uplinks || [];

	if (!list.length)
		return E('em', [ _('No uplink is configured.') ]);

	return E('table', { 'class': 'table', 'data-address': res.address }, [
		E('tr', { 'class': 'tr table-titles' }, [
			E('th', { 'class': 'th' }, [ _('Uplink') ]),
			E('th', { 'class': 'th' }, [ _('Answered') ]),
			E('th', { 'class': 'th' }, [ _('Why') ]),
			E('th', { 'class': 'th' }, [ _('Range') ]),
			E('th', { 'class': 'th' }, [ _('Advertisement source') ])
		])
	].concat(list.map(function(u) {
		var range = { origin: u.origin, device: u.route_device, interface: u.interface, host_devices: u.host_devices },
		    rule = u.rule ? u.rule + ' \u2014 ' + origin(range) + ', ' + (hostsLabels[u.hosts] || u.hosts)
			: u.route ? _('route') + ' ' + u.route : '-';

		if (u.exclude)
			rule += ' ' + _('except') + ' ' + u.exclude;

		return E('tr', { 'class': 'tr ndpr-explained', 'data-uplink': u.name }, [
			E('td', { 'class': 'td' }, [ u.name + ' (' + u.device + ')' ]),
			E('td', { 'class': 'td ndpr-answers' }, [ u.answers ? badge(_('yes'), '#2e7d32') : badge(_('no'), '#c62828') ]),
			E('td', { 'class': 'td ndpr-reason' }, [ u.reason ]),
			E('td', { 'class': 'td ndpr-rule' }, [ rule ]),
			E('td', { 'class': 'td' }, [ u.answers ? u.na_source_for_global_ns : '-' ])
		]);
	})));
}

return view.extend({
	load: function() {
		return callStatus();
	},

	handleExplain: function(ev) {
		var address = document.getElementById('ndpr-explain-address').value.trim(),
		    out = document.getElementById('ndpr-explain-result');

		if (!address)
			return;

		return callExplain(address).then(function(res) {
			dom.content(out, renderExplanation(res));
		}, function(err) {
			dom.content(out, E('p', { 'class': 'ndpr-error' }, [
				_('Cannot explain this address:') + ' ' + err.message
			]));
		});
	},

	render: function(st) {
		var live = E('div', { 'id': 'ndpr-status' }, [ renderStatus(st) ]);

		this.status = st;
		poll.add(L.bind(function() {
			return callStatus().then(L.bind(function(st) {
				this.status = st;
				dom.content(live, renderStatus(st));
			}, this));
		}, this));

		return E('div', {}, [
			E('h2', [ _('NDP Responder') ]),
			E('div', { 'class': 'cbi-map-descr' }, [
				_('What the service answers on each uplink, and why solicitations were not answered.')
			]),
			live,
			E('div', { 'class': 'cbi-section' }, [
				E('h3', [ _('Explain an address') ]),
				E('p', [ _('Which uplink and range would answer a solicitation for this address, or why none would.') ]),
				E('div', { 'style': 'display:flex;gap:0.5em' }, [
					E('input', {
						'id': 'ndpr-explain-address',
						'class': 'cbi-input-text',
						'type': 'text',
						'placeholder': '2001:db8:1:2::1:5',
						'keydown': L.bind(function(ev) {
							if (ev.key == 'Enter')
								this.handleExplain(ev);
						}, this)
					}),
					E('button', {
						'id': 'ndpr-explain-button',
						'class': 'cbi-button cbi-button-action',
						'click': L.bind(this.handleExplain, this)
					}, [ _('Explain') ])
				]),
				E('div', { 'id': 'ndpr-explain-result' })
			])
		]);
	},

	handleSave: null,
	handleSaveApply: null,
	handleReset: null
});
