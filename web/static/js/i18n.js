// Language choice and string lookup. Markup carries keys (data-i18n*), never text, so a
// language switch re-renders every page without a reload.
import en from "../i18n/en.js";
import zhCN from "../i18n/zh-CN.js";
import { storageGet, storageSet } from "./storage.js";

export const CATALOGS = { "zh-CN": zhCN, en };
const STORAGE_KEY = "commandpost.lang";

/** zh* browsers get Chinese, everyone else English, unless the user chose on the switch. */
export function detectLanguage() {
  const saved = storageGet(localStorage, STORAGE_KEY);
  if (saved && CATALOGS[saved]) return saved;
  const first = (navigator.languages && navigator.languages[0]) || navigator.language || "en";
  return first.toLowerCase().startsWith("zh") ? "zh-CN" : "en";
}

function interpolate(text, params) {
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
}

export class I18n {
  constructor(lang = detectLanguage()) {
    this.lang = lang;
    this.listeners = new Set();
  }

  t(key, params = {}) {
    const text = CATALOGS[this.lang][key] ?? CATALOGS.en[key];
    if (text === undefined) {
      console.warn("missing string", key);
      return key;
    }
    return interpolate(text, params);
  }

  /** Fill every element under root that names a key. */
  apply(root = document) {
    const attrs = { "data-i18n-placeholder": "placeholder", "data-i18n-title": "title", "data-i18n-aria": "aria-label" };
    for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = this.t(el.dataset.i18n);
    for (const [data, attr] of Object.entries(attrs)) {
      for (const el of root.querySelectorAll(`[${data}]`)) el.setAttribute(attr, this.t(el.getAttribute(data)));
    }
    if (root === document) {
      document.documentElement.lang = this.lang;
      const titleKey = document.documentElement.dataset.titleKey || "app.name";
      document.title = `${this.t(titleKey)} · ${this.t("app.name")}`;
    }
  }

  setLang(lang, { remember = true } = {}) {
    if (!CATALOGS[lang]) throw new Error(`unknown language ${lang}`);
    this.lang = lang;
    if (remember) storageSet(localStorage, STORAGE_KEY, lang);
    this.apply();
    for (const fn of this.listeners) fn(lang);
  }

  onChange(fn) {
    this.listeners.add(fn);
  }

  otherLang() {
    return this.lang === "zh-CN" ? "en" : "zh-CN";
  }

  /** The switch names the language it switches to, in that language. */
  bindSwitch(button) {
    const render = () => {
      button.textContent = CATALOGS[this.otherLang()]["lang.name"];
      button.setAttribute("aria-label", `${this.t("lang.switch")}: ${CATALOGS[this.otherLang()]["lang.name"]}`);
      button.lang = this.otherLang();
    };
    button.addEventListener("click", () => this.setLang(this.otherLang()));
    this.onChange(render);
    render();
  }
}
