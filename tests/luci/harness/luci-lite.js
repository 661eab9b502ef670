/*
 * luci-lite: a test stand-in for the small part of LuCI's client runtime that the
 * luci-app-ndpresponder views use, so they can run unchanged in a browser without a
 * router. It is not LuCI and shares no code with it; it emulates, under LuCI's public
 * names and calling conventions:
 *
 *   boot     logs in over ubus (session login from the null session, as LuCI's login
 *            page does), then instantiates the view named by ?view=<path>
 *   loader   L.require(): fetches /luci-static/resources/<name>.js, reads its leading
 *            'require X' / 'require X as Y' directives and runs the source as a function
 *            of _, N_, L, E and the required modules; the view's return value is its class
 *   L        bind, resolveDefault, error, env (sessionid, pollinterval 1 s)
 *   _, N_    identity translation
 *   E, dom   create, content, append, attr (a single string child is HTML, strings
 *            inside an array are text; function attributes are event listeners)
 *   view     extend(); load() then render() into #view, the Save & Apply / Save / Reset
 *            footer unless those handlers are null; handleSave saves every form.Map,
 *            handleSaveApply then calls uci apply (without rollback)
 *   rpc      declare({object, method, params, expect, reject, filter}): JSON-RPC 2.0
 *            "call" to /ubus with the session id, [status, data] replies
 *   uci      load, get, sections, set, unset, add, remove, save: a local change set
 *            written with ubus uci add/set/delete, as uci.js does (setting an option to
 *            the value it was loaded with is no change)
 *   poll     add(fn, interval)
 *   ui       addNotification, showModal, hideModal
 *   form     Map, NamedSection, GridSection (rows of the non-modalonly options, editable
 *            ones as widgets, Edit/Delete per row, Add, an edit dialog with every option,
 *            modaltitle; a refused save names the refusal's message), Value, Flag,
 *            ListValue, DynamicList; default, rmempty, optional, placeholder, value(),
 *            editable, modalonly; datatypes 'cidr6' and 'uinteger' by LuCI's rules with an
 *            inline "Expecting: ..." error (others are refused); the options' parse rules
 *            of form.js (Flag removes its default when rmempty), an option's parse() as a
 *            method it may wrap; a section's formvalue(section_id, option)
 *   tools.widgets  DeviceSelect (devices from luci-rpc getNetworkDevices, none without it,
 *            lo left out), NetworkSelect (interface sections of the network config but
 *            loopback); both with multiple: a checkbox per choice, configured values that
 *            are not among them kept, and unless nocreate a field to enter another name
 */
(function () {
	'use strict';

	/* The null session, which may only log in (as on a router). */
	var env = { sessionid: '00000000000000000000000000000000', pollinterval: 1 };

	function _(s) { return s; }
	function N_(n, s, p) { return n == 1 ? s : p; }

	function extend(base, props) {
		function Class() {
			if (this.__init__)
				return this.__init__.apply(this, arguments);
		}
		Class.prototype = Object.create(base.prototype);
		Object.assign(Class.prototype, props);
		Class.prototype.constructor = Class;
		Class.extend = function (p) { return extend(Class, p); };
		Class.super_ = base;
		return Class;
	}
	function Base() {}
	Base.extend = function (p) { return extend(Base, p); };

	/* dom */
	var dom = {
		elem: function (e) { return e != null && typeof e == 'object' && 'nodeType' in e; },
		attr: function (node, key, val) {
			if (typeof val == 'function')
				node.addEventListener(key, val);
			else if (val != null)
				node.setAttribute(key, typeof val == 'object' ? JSON.stringify(val) : val);
		},
		append: function (node, children) {
			if (Array.isArray(children)) {
				children.forEach(function (c) {
					if (dom.elem(c))
						node.appendChild(c);
					else if (c != null)
						node.appendChild(document.createTextNode('' + c));
				});
			}
			else if (dom.elem(children))
				node.appendChild(children);
			else if (children != null)
				node.innerHTML = '' + children;
			return node;
		},
		content: function (node, children) {
			while (node.firstChild)
				node.removeChild(node.firstChild);
			return dom.append(node, children);
		},
		create: function (tag, attr, data) {
			if (attr != null && (typeof attr != 'object' || Array.isArray(attr) || dom.elem(attr))) {
				data = attr;
				attr = null;
			}
			var node;
			if (Array.isArray(tag)) {
				node = document.createDocumentFragment();
				dom.append(node, tag);
			}
			else
				node = document.createElement(tag);
			for (var k in (attr || {}))
				dom.attr(node, k, attr[k]);
			dom.append(node, data);
			return node;
		}
	};
	function E() { return dom.create.apply(dom, arguments); }

	var L = {
		env: env,
		bind: function (fn, self) {
			var args = Array.prototype.slice.call(arguments, 2);
			return function () { return fn.apply(self, args.concat(Array.prototype.slice.call(arguments))); };
		},
		resolveDefault: function (p, def) { return Promise.resolve(p).catch(function () { return def; }); },
		error: function (e) {
			console.error(e);
			dom.content(document.getElementById('view'),
				E('div', { 'class': 'alert-message error' }, [ String(e && e.stack || e) ]));
		}
	};

	/* rpc */
	var ubusErrors = [ 'Success', 'Invalid command', 'Invalid argument', 'Method not found',
		'Not found', 'No response', 'Permission denied', 'Request timed out' ];
	var rpcId = 1;

	function rpcCall(object, method, args) {
		return fetch('/ubus', {
			method: 'POST',
			headers: { 'Content-Type': 'application/json' },
			body: JSON.stringify({ jsonrpc: '2.0', id: rpcId++, method: 'call',
				params: [ env.sessionid, object, method, args || {} ] })
		}).then(function (r) { return r.json(); }).then(function (msg) {
			if (msg.error)
				throw new Error('RPC error: ' + msg.error.message);
			return msg.result;
		});
	}

	function typeOf(v) { return Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v; }

	var rpc = {
		declare: function (opts) {
			return function () {
				var args = {}, a = arguments;
				(opts.params || []).forEach(function (p, i) {
					if (a[i] !== undefined)
						args[p] = a[i];
				});
				return rpcCall(opts.object, opts.method, args).then(function (result) {
					if (result[0] != 0 && opts.reject)
						throw new Error('RPC call to ' + opts.object + '/' + opts.method +
							' failed with ubus code ' + result[0] + ': ' + ubusErrors[result[0]]);
					var ret = result.length > 1 ? result[1] : result[0];
					for (var key in (opts.expect || {})) {
						if (ret != null && key != '')
							ret = ret[key];
						if (ret == null || typeOf(ret) != typeOf(opts.expect[key]))
							ret = opts.expect[key];
						break;
					}
					return opts.filter ? opts.filter(ret, args) : ret;
				});
			};
		}
	};

	/* uci: loaded values plus local creates, changes and deletes until save() */
	var uci = {
		values: {}, creates: {}, changes: {}, deletes: {}, seq: 0,

		load: function (conf) {
			var self = this;
			return rpcCall('uci', 'get', { config: conf }).then(function (r) {
				self.values[conf] = (r[0] == 0 && r[1] && r[1].values) || {};
				self.creates[conf] = {};
				self.changes[conf] = {};
				self.deletes[conf] = {};
			});
		},
		sections: function (conf, type) {
			var self = this, v = this.values[conf] || {}, c = this.creates[conf] || {};
			var list = Object.keys(v).filter(function (s) { return self.deletes[conf][s] !== true; })
				.map(function (s) { return v[s]; })
				.sort(function (a, b) { return a['.index'] - b['.index']; })
				.concat(Object.keys(c).map(function (s) { return c[s]; }));
			return list.filter(function (s) { return !type || s['.type'] == type; });
		},
		get: function (conf, sid, opt) {
			var c = (this.creates[conf] || {})[sid];
			if (c)
				return opt == null ? c : c[opt];
			var s = (this.values[conf] || {})[sid], d = (this.deletes[conf] || {})[sid];
			if (!s || d === true)
				return null;
			if (opt == null)
				return s;
			var ch = (this.changes[conf] || {})[sid];
			if (ch && opt in ch)
				return ch[opt];
			if (d && d[opt])
				return null;
			return s[opt];
		},
		set: function (conf, sid, opt, val) {
			if (val == null || val === '' || (Array.isArray(val) && !val.length))
				return this.unset(conf, sid, opt);
			if (this.creates[conf][sid]) {
				this.creates[conf][sid][opt] = val;
				return;
			}
			if (JSON.stringify(this.values[conf][sid][opt]) == JSON.stringify(val)) {
				delete (this.changes[conf][sid] || {})[opt];
				return;
			}
			(this.changes[conf][sid] = this.changes[conf][sid] || {})[opt] = val;
			if (this.deletes[conf][sid])
				delete this.deletes[conf][sid][opt];
		},
		unset: function (conf, sid, opt) {
			if (this.creates[conf][sid]) {
				delete this.creates[conf][sid][opt];
				return;
			}
			delete (this.changes[conf][sid] || {})[opt];
			if (this.values[conf][sid] && this.values[conf][sid][opt] != null)
				(this.deletes[conf][sid] = this.deletes[conf][sid] || {})[opt] = true;
		},
		add: function (conf, type) {
			var sid = 'new' + (++this.seq);
			this.creates[conf][sid] = { '.type': type, '.name': sid, '.anonymous': true };
			return sid;
		},
		remove: function (conf, sid) {
			if (this.creates[conf][sid])
				delete this.creates[conf][sid];
			else
				this.deletes[conf][sid] = true;
		},
		save: function () {
			var self = this, calls = [];
			Object.keys(this.values).forEach(function (conf) {
				var cr = self.creates[conf], ch = self.changes[conf], de = self.deletes[conf];
				Object.keys(cr).forEach(function (sid) {
					var values = {};
					for (var k in cr[sid])
						if (k.charAt(0) != '.')
							values[k] = cr[sid][k];
					calls.push([ 'add', { config: conf, type: cr[sid]['.type'], values: values } ]);
				});
				Object.keys(ch).forEach(function (sid) {
					if (Object.keys(ch[sid]).length)
						calls.push([ 'set', { config: conf, section: sid, values: ch[sid] } ]);
				});
				Object.keys(de).forEach(function (sid) {
					if (de[sid] === true)
						calls.push([ 'delete', { config: conf, section: sid } ]);
					else if (Object.keys(de[sid]).length)
						calls.push([ 'delete', { config: conf, section: sid, options: Object.keys(de[sid]) } ]);
				});
			});
			return calls.reduce(function (p, c) {
				return p.then(function () { return rpcCall('uci', c[0], c[1]); }).then(function (r) {
					if (r[0] != 0)
						throw new Error('uci ' + c[0] + ' failed with ubus code ' + r[0]);
				});
			}, Promise.resolve()).then(function () {
				return Promise.all(Object.keys(self.values).map(function (conf) { return self.load(conf); }));
			});
		}
	};

	/* poll */
	var poll = {
		add: function (fn, interval) {
			var tick = function () {
				Promise.resolve().then(fn).catch(L.error).then(function () {
					setTimeout(tick, (interval || env.pollinterval) * 1000);
				});
			};
			setTimeout(tick, (interval || env.pollinterval) * 1000);
		}
	};

	/* ui */
	var ui = {
		addNotification: function (title, children, cls) {
			var n = E('div', { 'class': 'alert-message ' + (cls || 'warning') }, [
				title ? E('h4', [ title ]) : null, children ]);
			document.getElementById('maincontent').insertBefore(n, document.getElementById('view'));
			return n;
		},
		showModal: function (title, children) {
			ui.hideModal();
			document.body.appendChild(E('div', { 'id': 'modal_overlay' }, [
				E('div', { 'class': 'modal' }, [ E('h4', [ title ]) ].concat(children))
			]));
		},
		hideModal: function () {
			var m = document.getElementById('modal_overlay');
			if (m)
				m.parentNode.removeChild(m);
		}
	};

	/* validation: LuCI's rules for the datatypes the views use */
	function isIPv4(s) {
		var p = s.split('.');
		return p.length == 4 && p.every(function (x) { return /^\d{1,3}$/.test(x) && +x <= 255; });
	}
	function isIPv6(s) {
		var halves = s.split('::');
		if (halves.length > 2)
			return false;
		var groups = 0, ok = true;
		halves.forEach(function (h, hi) {
			if (h === '')
				return;
			h.split(':').forEach(function (g, i, all) {
				if (i == all.length - 1 && hi == halves.length - 1 && g.indexOf('.') >= 0) {
					ok = ok && isIPv4(g);
					groups += 2;
				}
				else {
					ok = ok && /^[0-9a-fA-F]{1,4}$/.test(g);
					groups++;
				}
			});
		});
		return ok && (halves.length == 2 ? groups < 8 : groups == 8);
	}
	var datatypes = {
		cidr6: [ function (v) {
			var m = v.match(/^([0-9a-fA-F:.]+)\/(\d{1,3})$/);
			return !!(m && isIPv6(m[1]) && +m[2] <= 128);
		}, 'valid IPv6 CIDR' ],
		uinteger: [ function (v) { return /^[0-9]+$/.test(v); }, 'positive integer value' ]
	};

	/* form */
	var AbstractValue = Base.extend({
		__init__: function (section, option, title, description) {
			this.section = section;
			this.option = option;
			this.title = title || option;
			this.description = description;
			this.rmempty = true;
			this.optional = false;
			this.keylist = [];
			this.vallist = [];
		},
		value: function (k, v) { this.keylist.push(k); this.vallist.push(v == null ? k : v); },
		load: function () { return Promise.resolve(); },
		cfgvalue: function (sid) {
			var v = uci.get(this.section.map.config, sid, this.option);
			return v == null ? this.default : v;
		},
		textvalue: function (sid) {
			var v = this.cfgvalue(sid), i = this.keylist.indexOf(v);
			return Array.isArray(v) ? v.join(', ') : i >= 0 ? this.vallist[i] : v == null ? '-' : v;
		},
		/* One value's error, or null. */
		check: function (v) {
			if (this.datatype && !datatypes[this.datatype])
				throw new Error('luci-lite does not emulate datatype ' + this.datatype);
			var dt = this.datatype && datatypes[this.datatype];
			if (dt && !dt[0](v))
				return _('Expecting: %s').replace('%s', dt[1]);
			return null;
		},
		widgetValues: function (sid) {
			var v = this.formvalue(sid);
			return Array.isArray(v) ? v : v == null || v === '' ? [] : [ v ];
		},
		error: function (sid) {
			var vals = this.widgetValues(sid);
			if (!vals.length && !this.rmempty && !this.optional)
				return _('Expecting: %s').replace('%s', 'non-empty value');
			for (var i = 0; i < vals.length; i++) {
				var e = this.check(vals[i]);
				if (e)
					return e;
			}
			return null;
		},
		showError: function (sid, err) {
			var node = this.nodes[sid];
			if (!node)
				return;
			var slot = node.querySelector('.cbi-value-error');
			node.querySelectorAll('input[type=text]').forEach(function (i) {
				i.classList.toggle('cbi-input-invalid', !!err && (i.value !== '' || !i.closest('.add-item')));
			});
			dom.content(slot, err ? [ err ] : []);
		},
		parse: function (sid) {
			var err = this.error(sid);
			if (err) {
				this.showError(sid, err);
				return Promise.reject(new TypeError(this.title + ': ' + err));
			}
			var fval = this.formvalue(sid), cval = uci.get(this.section.map.config, sid, this.option);
			var empty = fval == null || fval === '' || (Array.isArray(fval) && !fval.length);
			if (empty)
				uci.unset(this.section.map.config, sid, this.option);
			else if (JSON.stringify(fval) != JSON.stringify(cval))
				uci.set(this.section.map.config, sid, this.option, fval);
			return Promise.resolve();
		},
		renderRow: function (sid) {
			var widget = this.renderWidget(sid, this.cfgvalue(sid));
			var node = E('div', { 'class': 'cbi-value', 'data-name': this.option }, [
				E('label', { 'class': 'cbi-value-title' }, [ this.title ]),
				E('div', { 'class': 'cbi-value-field' }, [
					widget,
					E('div', { 'class': 'cbi-value-error' }),
					this.description && !this.section.nodescriptions_row
						? E('div', { 'class': 'cbi-value-description' }, [ this.description ]) : null
				])
			]);
			this.nodes[sid] = node;
			return node;
		},
		renderCell: function (sid) {
			var node = E('div', { 'data-name': this.option }, [
				this.renderWidget(sid, this.cfgvalue(sid)), E('div', { 'class': 'cbi-value-error' }) ]);
			this.nodes[sid] = node;
			return node;
		}
	});

	var Value = AbstractValue.extend({
		renderWidget: function (sid, v) {
			var self = this, input = E('input', { 'type': 'text', 'class': 'cbi-input-text',
				'placeholder': this.placeholder, 'name': 'cbid.' + sid + '.' + this.option });
			input.value = v == null ? '' : v;
			input.addEventListener('input', function () { self.showError(sid, self.error(sid)); });
			return input;
		},
		formvalue: function (sid) {
			var i = this.nodes[sid] && this.nodes[sid].querySelector('input');
			return i ? i.value.trim() : this.cfgvalue(sid);
		}
	});

	var ListValue = AbstractValue.extend({
		renderWidget: function (sid, v) {
			var sel = E('select', { 'class': 'cbi-input-select', 'name': 'cbid.' + sid + '.' + this.option });
			var keys = this.keylist.slice(), vals = this.vallist.slice();
			if (this.optional) {
				keys.unshift('');
				vals.unshift(_('-- Please choose --'));
			}
			if (v != null && keys.indexOf(v) < 0) {
				keys.push(v);
				vals.push(v);
			}
			keys.forEach(function (k, i) { sel.appendChild(E('option', { 'value': k }, [ vals[i] ])); });
			sel.value = v == null ? '' : v;
			return sel;
		},
		formvalue: function (sid) {
			var s = this.nodes[sid] && this.nodes[sid].querySelector('select');
			return s ? s.value : this.cfgvalue(sid);
		}
	});

	var Flag = AbstractValue.extend({
		__init__: function () {
			AbstractValue.prototype.__init__.apply(this, arguments);
			this.enabled = '1';
			this.disabled = '0';
			this.default = this.disabled;
		},
		renderWidget: function (sid, v) {
			var cb = E('input', { 'type': 'checkbox', 'name': 'cbid.' + sid + '.' + this.option });
			cb.checked = v == this.enabled;
			return cb;
		},
		textvalue: function (sid) { return this.cfgvalue(sid) == this.enabled ? _('yes') : _('no'); },
		formvalue: function (sid) {
			var c = this.nodes[sid] && this.nodes[sid].querySelector('input');
			return c ? (c.checked ? this.enabled : this.disabled) : this.cfgvalue(sid);
		},
		parse: function (sid) {
			var fval = this.formvalue(sid), cval = uci.get(this.section.map.config, sid, this.option);
			if (fval == this.default && this.rmempty)
				uci.unset(this.section.map.config, sid, this.option);
			else if (fval != cval)
				uci.set(this.section.map.config, sid, this.option, fval);
			return Promise.resolve();
		}
	});

	var DynamicList = AbstractValue.extend({
		renderWidget: function (sid, v) {
			var self = this, list = E('div', { 'class': 'cbi-dynlist' });
			var addItem = function (val) {
				var item = E('div', { 'class': 'item', 'data-value': val }, [ E('span', [ val ]) ]);
				var rm = E('span', { 'class': 'remove', 'title': _('Remove') }, [ '\u00d7' ]);
				rm.addEventListener('click', function () { list.removeChild(item); });
				item.appendChild(rm);
				list.insertBefore(item, list.lastChild);
			};
			var input = E('input', { 'type': 'text', 'class': 'cbi-input-text', 'placeholder': this.placeholder });
			var plus = E('div', { 'class': 'cbi-button cbi-button-add' }, [ '+' ]);
			var submit = function () {
				var val = input.value.trim(), err = val ? self.check(val) : null;
				self.showError(sid, err);
				if (!val || err)
					return;
				addItem(val);
				input.value = '';
			};
			plus.addEventListener('click', submit);
			input.addEventListener('keydown', function (ev) {
				if (ev.key == 'Enter') {
					ev.preventDefault();
					submit();
				}
			});
			input.addEventListener('input', function () {
				self.showError(sid, input.value.trim() ? self.check(input.value.trim()) : null);
			});
			list.appendChild(E('div', { 'class': 'add-item' }, [ input, plus ]));
			(Array.isArray(v) ? v : v == null ? [] : String(v).split(/\s+/)).forEach(addItem);
			return list;
		},
		formvalue: function (sid) {
			var node = this.nodes[sid];
			if (!node)
				return this.cfgvalue(sid);
			var vals = [];
			node.querySelectorAll('.item').forEach(function (i) { vals.push(i.getAttribute('data-value')); });
			/* As LuCI does, text left in the add field counts as an entry. */
			var pending = node.querySelector('.add-item input').value.trim();
			if (pending)
				vals.push(pending);
			return vals;
		},
		cfgvalue: function (sid) {
			var v = AbstractValue.prototype.cfgvalue.call(this, sid);
			return v == null ? [] : Array.isArray(v) ? v : String(v).split(/\s+/);
		}
	});

	var AbstractSection = Base.extend({
		__init__: function (map, type, title, description) {
			this.map = map;
			this.sectiontype = type;
			this.title = title;
			this.description = description;
			this.children = [];
		},
		option: function (Cls, name, title, description) {
			var o = new Cls(this, name, title, description);
			o.nodes = {};
			this.children.push(o);
			return o;
		},
		load: function () {
			return Promise.all(this.children.map(function (o) { return o.load(); }));
		},
		parse: function (sid) {
			return Promise.all(this.children.filter(function (o) { return o.nodes[sid]; })
				.map(function (o) { return o.parse(sid); }));
		},
		formvalue: function (sid, option) {
			var o = this.children.filter(function (c) { return c.option == option; })[0];
			return o ? o.formvalue(sid) : null;
		}
	});

	var NamedSection = AbstractSection.extend({
		__init__: function (map, sid, type, title, description) {
			AbstractSection.prototype.__init__.call(this, map, type, title, description);
			this.sid = sid;
		},
		cfgsections: function () { return uci.get(this.map.config, this.sid) ? [ this.sid ] : []; },
		parseAll: function () { return Promise.all(this.cfgsections().map(L.bind(this.parse, this))); },
		render: function () {
			var self = this;
			return E('div', { 'class': 'cbi-section', 'id': 'cbi-' + this.map.config + '-' + this.sid }, [
				this.title ? E('h3', [ this.title ]) : null,
				E('div', { 'class': 'cbi-section-node' }, this.cfgsections().length
					? this.children.map(function (o) { return o.renderRow(self.sid); })
					: [ E('em', [ _('This section contains no values yet') ]) ])
			]);
		}
	});

	var GridSection = AbstractSection.extend({
		cfgsections: function () {
			return uci.sections(this.map.config, this.sectiontype).map(function (s) { return s['.name']; });
		},
		parseAll: function () {
			var self = this;
			/* Only the cells editable in the table; the rest was parsed by the dialog. */
			return Promise.all(this.cfgsections().map(function (sid) {
				return Promise.all(self.children.filter(function (o) { return o.editable && o.nodes[sid]; })
					.map(function (o) { return o.parse(sid); }));
			}));
		},
		render: function () {
			var self = this, cols = this.children.filter(function (o) { return !o.modalonly; });
			var head = E('tr', { 'class': 'tr table-titles' }, cols.map(function (o) {
				return E('th', { 'class': 'th' }, [ o.title ]);
			}).concat([ E('th', { 'class': 'th cbi-section-actions' }) ]));
			var rows = this.cfgsections().map(function (sid) {
				return E('tr', { 'class': 'tr cbi-section-table-row', 'data-sid': sid }, cols.map(function (o) {
					o.nodes[sid] = null;
					return E('td', { 'class': 'td', 'data-title': o.title },
						[ o.editable ? o.renderCell(sid) : o.textvalue(sid) ]);
				}).concat([ E('td', { 'class': 'td cbi-section-actions' }, [
					E('button', { 'class': 'cbi-button cbi-button-edit', 'title': _('Edit'),
						'click': function () { self.renderModal(sid, false); } }, [ _('Edit') ]),
					' ',
					E('button', { 'class': 'cbi-button cbi-button-remove', 'title': _('Delete'),
						'click': function () { uci.remove(self.map.config, sid); self.map.reset(); } }, [ _('Delete') ])
				]) ]));
			});
			if (!rows.length)
				rows.push(E('tr', { 'class': 'tr placeholder' }, [
					E('td', { 'class': 'td' }, [ E('em', [ _('This section contains no values yet') ]) ]) ]));
			return E('div', { 'class': 'cbi-section', 'id': 'cbi-' + this.map.config + '-' + this.sectiontype }, [
				this.title ? E('h3', [ this.title ]) : null,
				this.description ? E('div', { 'class': 'cbi-section-descr' }, [ this.description ]) : null,
				E('table', { 'class': 'table cbi-section-table' }, [ head ].concat(rows)),
				this.addremove ? E('div', { 'class': 'cbi-section-create' }, [
					E('button', { 'class': 'cbi-button cbi-button-add', 'title': _('Add'),
						'click': function () { self.renderModal(uci.add(self.map.config, self.sectiontype), true); } },
						[ _('Add') ]) ]) : null
			]);
		},
		renderModal: function (sid, added) {
			var self = this, map = this.map;
			var body = E('div', { 'class': 'cbi-section-node' }, this.children.map(function (o) {
				return o.renderRow(sid);
			}));
			var close = function () {
				ui.hideModal();
				map.reset();
			};
			ui.showModal(this.modaltitle || this.title, [
				body,
				E('div', { 'class': 'right' }, [
					E('button', { 'class': 'cbi-button cbi-button-neutral', 'click': function () {
						if (added)
							uci.remove(map.config, sid);
						close();
					} }, [ _('Dismiss') ]),
					' ',
					E('button', { 'class': 'cbi-button cbi-button-positive', 'click': function () {
						self.parse(sid).then(close, function (e) {
							ui.addNotification(null, E('div', [ E('p', [ _('Some fields are invalid, cannot save values!') ]),
								E('p', { 'class': 'save-error' }, [ e.message ]) ]), 'error');
						});
					} }, [ _('Save') ])
				])
			]);
		}
	});

	var Map = Base.extend({
		__init__: function (config, title, description) {
			this.config = config;
			this.title = title;
			this.description = description;
			this.children = [];
		},
		section: function (Cls) {
			var s = new (Function.prototype.bind.apply(Cls,
				[ null, this ].concat(Array.prototype.slice.call(arguments, 1))))();
			this.children.push(s);
			return s;
		},
		load: function () {
			var self = this;
			return uci.load(this.config).then(function () {
				return Promise.all(self.children.map(function (s) { return s.load(); }));
			});
		},
		renderContents: function () {
			return this.children.map(function (s) { return s.render(); });
		},
		render: function () {
			var self = this;
			return this.load().then(function () {
				self.root = E('div', { 'class': 'cbi-map', 'id': 'cbi-' + self.config }, [
					E('h2', [ self.title ]),
					self.description ? E('div', { 'class': 'cbi-map-descr' }, [ self.description ]) : null,
					E('div', { 'class': 'cbi-map-sections' }, self.renderContents())
				]);
				self.root.__map = self;
				return self.root;
			});
		},
		reset: function () {
			dom.content(this.root.querySelector('.cbi-map-sections'), this.renderContents());
		},
		save: function () {
			var self = this;
			return Promise.all(this.children.map(function (s) { return s.parseAll(); })).then(function () {
				return uci.save();
			}).then(function () {
				self.reset();
			}, function (e) {
				ui.addNotification(null, E('p', [ _('Some fields are invalid, cannot save values!') ]), 'error');
				throw e;
			});
		}
	});

	var form = {
		Map: Map, NamedSection: NamedSection, GridSection: GridSection,
		Value: Value, Flag: Flag, ListValue: ListValue, DynamicList: DynamicList
	};

	/* tools.widgets */
	/* With multiple: a checkbox per choice, configured values that are not among them kept,
	 * and unless nocreate a field to enter another name. */
	var MultiSelect = {
		renderWidget: function (sid, v) {
			if (!this.multiple)
				return ListValue.prototype.renderWidget.call(this, sid, v);
			var box = E('div', { 'class': 'cbi-multi-select' });
			var add = function (name, checked) {
				var cb = E('input', { 'type': 'checkbox', 'value': name });
				cb.checked = checked;
				box.insertBefore(E('label', { 'class': 'cbi-choice', 'data-value': name }, [ cb, ' ' + name ]),
					box.querySelector('.create-item'));
			};
			if (!this.nocreate) {
				var input = E('input', { 'type': 'text', 'class': 'create-item-input', 'placeholder': _('custom') });
				input.addEventListener('keydown', function (ev) {
					var name = input.value.trim();
					if (ev.key != 'Enter')
						return;
					ev.preventDefault();
					if (name && !box.querySelector('[data-value="' + CSS.escape(name) + '"]'))
						add(name, true);
					input.value = '';
				});
				box.appendChild(E('div', { 'class': 'create-item' }, [ input ]));
			}
			var chosen = this.cfgvalue(sid), keys = this.keylist.slice();
			chosen.forEach(function (d) {
				if (keys.indexOf(d) < 0)
					keys.push(d);
			});
			keys.forEach(function (d) { add(d, chosen.indexOf(d) >= 0); });
			return box;
		},
		formvalue: function (sid) {
			if (!this.multiple)
				return ListValue.prototype.formvalue.call(this, sid);
			var node = this.nodes[sid];
			if (!node)
				return this.cfgvalue(sid);
			var vals = [];
			node.querySelectorAll('.cbi-choice input:checked').forEach(function (c) { vals.push(c.value); });
			return vals;
		},
		cfgvalue: function (sid) {
			if (!this.multiple)
				return ListValue.prototype.cfgvalue.call(this, sid);
			return DynamicList.prototype.cfgvalue.call(this, sid);
		}
	};
	var DeviceSelect = ListValue.extend(Object.assign({
		load: function () {
			var self = this;
			return L.resolveDefault(rpcCall('luci-rpc', 'getNetworkDevices', {}), [ 4 ]).then(function (r) {
				self.keylist = [];
				self.vallist = [];
				Object.keys((r[0] == 0 && r[1]) || {}).sort().forEach(function (d) {
					if (d != 'lo')
						self.value(d);
				});
			});
		}
	}, MultiSelect));
	var NetworkSelect = ListValue.extend(Object.assign({
		load: function () {
			var self = this;
			return uci.load('network').then(function () {
				self.keylist = [];
				self.vallist = [];
				uci.sections('network', 'interface').forEach(function (s) {
					if (s['.name'] != 'loopback')
						self.value(s['.name']);
				});
			});
		}
	}, MultiSelect));
	var widgets = { DeviceSelect: DeviceSelect, NetworkSelect: NetworkSelect };

	/* view */
	var View = Base.extend({
		__init__: function () {
			var self = this, vp = document.getElementById('view');
			dom.content(vp, E('div', { 'class': 'spinning' }, [ _('Loading view…') ]));
			return Promise.resolve(this.load()).then(function (d) { return self.render(d); }).then(function (nodes) {
				dom.content(vp, nodes);
				dom.append(vp, self.addFooter());
				vp.setAttribute('data-ready', '1');
			}).catch(L.error);
		},
		load: function () {},
		render: function () {},
		handleSave: function () {
			var tasks = [];
			document.querySelectorAll('#maincontent .cbi-map').forEach(function (m) { tasks.push(m.__map.save()); });
			return Promise.all(tasks);
		},
		handleSaveApply: function (ev) {
			return this.handleSave(ev).then(function () { return rpcCall('uci', 'apply', { rollback: false }); });
		},
		handleReset: function () { location.reload(); },
		addFooter: function () {
			if (!this.handleSave && !this.handleSaveApply && !this.handleReset)
				return E('div');
			var self = this, button = function (cls, label, fn) {
				return fn ? E('button', { 'class': 'cbi-button ' + cls, 'click': function (ev) {
					Promise.resolve(fn.call(self, ev)).catch(function (e) { console.warn(e); });
				} }, [ label ]) : null;
			};
			return E('div', { 'class': 'cbi-page-actions' }, [
				button('cbi-button-apply', _('Save & Apply'), this.handleSaveApply), ' ',
				button('cbi-button-save', _('Save'), this.handleSave), ' ',
				button('cbi-button-reset', _('Reset'), this.handleReset)
			]);
		}
	});

	var modules = {
		baseclass: Base, view: View, form: form, rpc: rpc, uci: uci, poll: poll, ui: ui,
		dom: dom, 'tools.widgets': widgets
	};

	L.require = function (name) {
		if (modules[name])
			return Promise.resolve(modules[name]);
		var url = '/luci-static/resources/' + name.replace(/\./g, '/') + '.js';
		return fetch(url).then(function (r) {
			if (!r.ok)
				throw new Error(url + ': HTTP ' + r.status);
			return r.text();
		}).then(function (src) {
			var names = [], deps = [], re = /^\s*'(use strict|require ([^' ]+)(?: as ([^' ]+))?)';?/, m, rest = src;
			while ((m = rest.match(re)) != null) {
				if (m[2]) {
					deps.push(m[2]);
					names.push(m[3] || m[2]);
				}
				rest = rest.slice(m[0].length);
			}
			return Promise.all(deps.map(L.require)).then(function (mods) {
				var fn = new Function([ '_', 'N_', 'L', 'E' ].concat(names).join(','), src + '\n//# sourceURL=' + url);
				return fn.apply(null, [ _, N_, L, E ].concat(mods));
			});
		});
	};

	/* Boot: log in over the session object, then instantiate ?view=<path>. */
	window.L = L;
	window.E = E;
	var q = new URLSearchParams(location.search);
	rpcCall('session', 'login', { username: q.get('user') || 'root', password: q.get('password') || '' })
		.then(function (r) {
			if (r[0] != 0)
				throw new Error('login refused (ubus code ' + r[0] + ')');
			env.sessionid = r[1].ubus_rpc_session;
			return L.require('view.' + q.get('view').replace(/\//g, '.'));
		}).then(function (ViewClass) { return new ViewClass(); }).catch(L.error);
})();
