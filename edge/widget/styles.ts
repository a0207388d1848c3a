// The widget's CSS (inside its shadow root). Host pages restyle it through custom properties
// (--ec-accent, --ec-bg, --ec-fg, --ec-muted, --ec-border, --ec-radius, --ec-font) and ::part(...);
// it follows the visitor's light/dark preference unless the host sets the colours.

export const STYLES = `
:host {
  --_accent: var(--ec-accent, #2563eb);
  --_bg: var(--ec-bg, #ffffff);
  --_fg: var(--ec-fg, #111827);
  --_muted: var(--ec-muted, #6b7280);
  --_border: var(--ec-border, #d1d5db);
  --_error: var(--ec-error, #b91c1c);
  --_radius: var(--ec-radius, 12px);
  display: block;
  max-width: 28rem;
  font: 15px/1.45 var(--ec-font, system-ui, -apple-system, "Segoe UI", Roboto, sans-serif);
  color: var(--_fg);
}
@media (prefers-color-scheme: dark) {
  :host {
    --_accent: var(--ec-accent, #60a5fa);
    --_bg: var(--ec-bg, #111827);
    --_fg: var(--ec-fg, #f3f4f6);
    --_muted: var(--ec-muted, #9ca3af);
    --_border: var(--ec-border, #374151);
    --_error: var(--ec-error, #f87171);
  }
}
*, *::before, *::after { box-sizing: border-box; }
.card { background: var(--_bg); border: 1px solid var(--_border); border-radius: var(--_radius); padding: 1rem; }
.drop {
  display: flex; flex-direction: column; align-items: center; justify-content: center; gap: .5rem;
  min-height: 9rem; border: 2px dashed var(--_border); border-radius: calc(var(--_radius) - 4px);
  padding: 1rem; text-align: center; cursor: pointer; color: var(--_muted);
}
.drop:focus-visible, button:focus-visible { outline: 3px solid var(--_accent); outline-offset: 2px; }
.drop.over { border-color: var(--_accent); background: color-mix(in srgb, var(--_accent) 8%, transparent); }
.drop img { height: 11rem; width: 100%; border-radius: 6px; object-fit: contain; }
.actions { display: flex; gap: .5rem; flex-wrap: wrap; justify-content: center; }
button {
  font: inherit; border: 0; border-radius: 999px; padding: .45rem 1rem; cursor: pointer;
  background: var(--_accent); color: #fff;
}
button.secondary { background: transparent; color: var(--_accent); border: 1px solid var(--_accent); }
.hint { font-size: .85em; }
ol { list-style: none; margin: 1rem 0 0; padding: 0; display: grid; gap: .45rem; }
li { display: grid; grid-template-columns: minmax(5rem, 9rem) 1fr 3.5rem; align-items: center; gap: .6rem; }
.label { min-width: 0; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
li:first-child .label { font-weight: 600; }
.track { height: .6rem; border-radius: 999px; background: color-mix(in srgb, var(--_border) 60%, transparent); overflow: hidden; }
.bar { display: block; height: 100%; border-radius: 999px; background: var(--_accent); transition: width .3s ease; }
.score { text-align: right; font-variant-numeric: tabular-nums; }
.meta { margin-top: .6rem; color: var(--_muted); font-size: .85em; }
.error { margin-top: .8rem; color: var(--_error); }
.busy { margin-top: .8rem; color: var(--_muted); }
input[type=file] { display: none; }
.sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
`;
