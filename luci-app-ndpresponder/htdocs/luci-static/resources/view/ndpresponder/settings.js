'use strict';
'require view';
'require form';
'require tools.widgets as widgets';

/*
 * The UCI schema of /etc/config/ndpresponder: one 'ndpresponder' section ('main') and one
 * 'uplink' section per device the solicitations arrive on. Option names and defaults are
 * the daemon's; `ndpresponder check` on the router reports anything it refuses.
 */
return view.extend({
	render: function() {
		var m, s, o;

		m = new form.Map('ndpresponder', _('NDP Responder'),
			_('Answers IPv6 Neighbor Solicitations on an uplink for addresses inside the configured prefixes, with Neighbor Advertisements whose source is the solicited address itself.'));

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
			_('IPv6 prefixes to answer for, e.g. 2001:db8:1:2::/112; a single address is written as /128.'));
		o.datatype = 'cidr6';
		o.rmempty = false;

		o = s.option(form.DynamicList, 'exclude', _('Excludes'),
			_('Prefixes inside the above never to answer for, e.g. the router\'s own address.'));
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
