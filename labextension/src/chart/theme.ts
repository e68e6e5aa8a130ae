/** Colours and fonts from the page's theme: JupyterLab's CSS variables (light, dark and
 * high-contrast themes), VS Code's, or neutral fallbacks. */
export interface ITheme {
  text: string;
  grid: string;
  font: string;
  lineWidth: number;
}

/** A categorical palette readable on light and dark backgrounds. */
export const PALETTE = [
  '#4e79a7',
  '#f28e2b',
  '#e15759',
  '#76b7b2',
  '#59a14f',
  '#edc948',
  '#b07aa1',
  '#ff9da7',
  '#9c755f',
  '#bab0ac'
];

function cssVar(
  style: CSSStyleDeclaration,
  names: string[],
  fallback: string
): string {
  for (const name of names) {
    const v = style.getPropertyValue(name).trim();
    if (v) {
      return v;
    }
  }
  return fallback;
}

export function readTheme(el: Element): ITheme {
  const style = getComputedStyle(el);
  const themeName = document.body.dataset.jpThemeName ?? '';
  return {
    text: cssVar(style, ['--jp-ui-font-color1', '--vscode-foreground'], '#444'),
    grid: cssVar(
      style,
      ['--jp-border-color2', '--vscode-editorWidget-border'],
      'rgba(128,128,128,0.3)'
    ),
    font: cssVar(
      style,
      ['--jp-ui-font-family', '--vscode-font-family'],
      'sans-serif'
    ),
    lineWidth: /high contrast/i.test(themeName) ? 2.5 : 1.5
  };
}

/** Call `onChange` when the page switches theme; returns a function that stops watching. */
export function watchTheme(onChange: () => void): () => void {
  const observer = new MutationObserver(onChange);
  observer.observe(document.body, {
    attributes: true,
    attributeFilter: ['data-jp-theme-name', 'data-jp-theme-light', 'class']
  });
  return () => observer.disconnect();
}
