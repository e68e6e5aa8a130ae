// A model object with anywidget's interface, as Jupyter's and VS Code's hosts hand one to
// a widget's front end: state, change events, custom messages. Every set() and
// save_changes() is logged, as the kernel would receive them.
export class PageModel {
  constructor(state) {
    this.state = state;
    this.handlers = {};
    this.sent = [];
    this.log = [];
  }
  get(key) {
    return this.state[key];
  }
  set(key, value) {
    this.state[key] = value;
    this.log.push({ op: 'set', key, value: JSON.parse(JSON.stringify(value)) });
    this.emit(`change:${key}`);
  }
  on(event, fn) {
    (this.handlers[event] ??= []).push(fn);
  }
  off(event, fn) {
    this.handlers[event] = (this.handlers[event] ?? []).filter(f => f !== fn);
  }
  emit(event, ...args) {
    (this.handlers[event] ?? []).forEach(fn => fn(...args));
  }
  send(message) {
    this.sent.push(message);
  }
  save_changes() {
    this.log.push({ op: 'save' });
  }
  // What the kernel changing a trait looks like to the front end (not logged).
  kernelSets(key, value) {
    this.state[key] = value;
    this.emit(`change:${key}`);
  }
}
