'use strict';
'require view';
'require form';
'require tools.widgets as widgets';

/*
 * The UCI schema of /etc/config/ndpresponder: one 'ndpresponder' section ('main') and one
 * 'uplink' section per device the solicitations arrive on. Option names and defaults are
 * the daemon's; `ndpresponder check` on the router reports anything it refuses.
 */

/* The entries of a list option as the dialog has them now. */
function entries(section, section_id, option) {
	var v = section.formvalue(section_id, option);

	return Array.isArray(v) ? v : (v != null && v !== '') ? [ v ] : [];
}

function downstreams(section, section_id) {
	return entries(section, section_id, 'downstream');
}

/* Whether the uplink follows what the router has: downstream devices (routed ranges, and
 * their hosts) or prefix_from interfaces (netifd's prefixes, and the devices their hosts
 * are on). Either is a source of ranges without a prefix, and a place to look for hosts. */
function followsRouter(section, section_id) {
	return downstreams(section, section_id).length > 0 ||
		entries(section, section_id, 'prefix_from').length > 0;
}

/*
 * A rule across options, checked when the dialog is saved, as the daemon checks it when
 * it reads the file: validate() only ever sees the one value being typed into a list, so
 * the rule wraps the option's parse() and refuses the save with the daemon's reason.
 */
function rule(option, check) {
	var parse = option.parse;

	option.parse = function(section_id) {
		var err = check.call(this, section_id);

		return err ? Promise.reject(new TypeError(err)) : parse.apply(this, arguments);
	};
}

return view.extend({
	render: function() {
		var m, s, o;

		m = new form.Map('ndpresponder', _('NDP Responder'),
			_('Answers IPv6 Neighbor Solicitations on an uplink for addresses in its ranges (configured prefixes, the prefixes netifd reports for chosen interfaces, ranges routed to downstream devices), with Neighbor Advertisements whose source is the solicited address itself.'));

		s = m.section(form.NamedSection, 'main', 'ndpresponder', _('Global settings'));
		s.addremove = false;

		o = s.option(form.Flag, 'enabled', _('Enabled'),
			_('When off, the service keeps running but answers nothing.'));
		o.default = o.enabled;
		o.rmempty = false;

		o = s.option(form.ListValue, 'log_level', _('Log level'));
		o.value('err', _('Error'));
		o.value('warning', _('Warning'));
		o.value('notice', _('Notice'));
		o.value('info', _('Info'));
		o.value('debug', _('Debug'));
		o.default = 'info';

		s = m.section(form.GridSection, 'uplink', _('Uplinks'),
			_('One entry per network device the upstream router solicits on.'));
		s.anonymous = true;
		s.addremove = true;
		s.nodescriptions = true;
		s.modaltitle = _('Uplink');

		o = s.option(form.Flag, 'enabled', _('Enabled'));
		o.default = o.enabled;
		o.rmempty = false;
		o.editable = true;

		o = s.option(widgets.DeviceSelect, 'device', _('Device'),
			_('Linux network device the solicitations arrive on (for PPPoE: pppoe-wan).'));
		o.noaliases = true;
		o.rmempty = false;

		o = s.option(widgets.NetworkSelect, 'interface', _('Interface'),
			_('Logical interface of that device; its changes reload the service.'));
		o.nocreate = true;
		o.optional = true;

		o = s.option(form.DynamicList, 'prefix', _('Prefixes'),
			_('IPv6 prefixes to answer for, e.g. 2001:db8:1:2::/112; a single address is written as /128. Not needed when downstream devices or prefixes from netifd are given.'));
		o.datatype = 'cidr6';
		rule(o, function(section_id) {
			var v = this.formvalue(section_id);

			if ((!v || !v.length) && !followsRouter(this.section, section_id))
				return _('Give prefixes to answer for, downstream devices whose routes give them, or interfaces whose prefixes netifd reports.');
		});

		o = s.option(widgets.NetworkSelect, 'prefix_from', _('Prefixes from netifd'),
			_('Interfaces (lan, wan6) whose current prefixes are answered for too: the prefixes assigned to them (ip6assign, extendprefix) and delegated to them, followed as netifd changes them.'));
		o.multiple = true;
		o.nocreate = true;

		o = s.option(widgets.DeviceSelect, 'downstream', _('Downstream devices'),
			_('Devices behind this host (br-lan, docker0): an address whose route leaves through one of them, and not through the uplink, is answered for. Followed live as routes change.'));
		o.multiple = true;
		o.noaliases = true;
		rule(o, function(section_id) {
			var uplink = this.section.formvalue(section_id, 'device');

			if (uplink && downstreams(this.section, section_id).indexOf(uplink) >= 0)
				return _('The uplink\'s own device cannot be a downstream device: a route out of the uplink is never answered for.');
		});

		o = s.option(form.ListValue, 'hosts', _('Hosts answered for'),
			_('Which addresses of a range are answered for. Any: every address. Known: only hosts with a neighbour entry (or their own /128 route) on a downstream device, or for a prefix from netifd on the device it was assigned to, so random addresses cannot fill the upstream router\'s neighbour cache. Probe: as known, and an unknown address is first probed. Known and probe need a downstream device or prefixes from netifd.'));
		o.value('', _('Default: any for prefixes, known for prefixes from netifd and routed ranges'));
		o.value('any', _('Any address'));
		o.value('known', _('Known hosts'));
		o.value('probe', _('Known hosts, else probe'));
		o.modalonly = true;
		rule(o, function(section_id) {
			var v = this.formvalue(section_id);

			if ((v == 'known' || v == 'probe') && !followsRouter(this.section, section_id))
				return _('Hosts "known" and "probe" need at least one downstream device or interface with prefixes from netifd, whose neighbours count.');
		});

		o = s.option(form.Flag, 'announce', _('Announce new hosts'),
			_('When a host appears on a downstream device (or the device of an interface with prefixes from netifd) in a range, send an unsolicited advertisement for it on the uplink and a solicitation from it to the default router. Needs a downstream device or prefixes from netifd.'));
		o.default = o.disabled;
		o.modalonly = true;
		rule(o, function(section_id) {
			if (this.formvalue(section_id) == this.enabled && !followsRouter(this.section, section_id))
				return _('Announcing needs at least one downstream device or interface with prefixes from netifd, whose hosts it announces.');
		});

		o = s.option(form.DynamicList, 'exclude', _('Excludes'),
			_('Prefixes never to answer for, in configured, netifd or routed ranges, e.g. the router\'s own address.'));
		o.datatype = 'cidr6';
		o.modalonly = true;

		o = s.option(form.ListValue, 'source', _('Advertisement source'),
			_('IPv6 source address of the Neighbor Advertisement.'));
		o.value('target', _('The solicited address (passes anti-spoofing filters)'));
		o.value('link-local', _('The uplink\'s link-local address'));
		o.value('auto', _('Link-local when solicited from a link-local address'));
		o.default = 'target';

		o = s.option(form.Flag, 'router', _('Router flag'),
			_('Set the Router flag in advertisements (RFC 4861 section 4.4).'));
		o.default = o.enabled;
		o.rmempty = false;
		o.modalonly = true;

		o = s.option(form.Flag, 'override', _('Override flag'),
			_('Set the Override flag; a proxy should leave it off (RFC 4861 section 7.2.8).'));
		o.default = o.disabled;
		o.rmempty = false;
		o.modalonly = true;

		o = s.option(form.Value, 'rate_limit', _('Rate limit'),
			_('Advertisements per second on this uplink; 0 means no limit.'));
		o.datatype = 'uinteger';
		o.placeholder = '10000';
		o.modalonly = true;

		o = s.option(form.Value, 'source_rate_limit', _('Per-source rate limit'),
			_('Advertisements per second in answer to any one soliciting address; 0 means no limit.'));
		o.datatype = 'uinteger';
		o.placeholder = '1000';
		o.modalonly = true;

		return m.render();
	}
});
