import { LabIcon } from '@jupyterlab/ui-components';

/** Flask: experiments. */
export const experimentsIcon = new LabIcon({
  name: 'matih:experiments',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24"><path class="jp-icon3" fill="#616161" d="M9 2h6v2h-1v5.2l5.6 9.3A2 2 0 0 1 17.9 22H6.1a2 2 0 0 1-1.7-3.5L10 9.2V4H9zm3 9-3.1 5h6.2z"/></svg>'
});

/** Stacked boxes: registered models. */
export const modelsIcon = new LabIcon({
  name: 'matih:models',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24"><path class="jp-icon3" fill="#616161" d="M12 2 3 6.5v11L12 22l9-4.5v-11zm0 2.2 6.6 3.3L12 10.8 5.4 7.5zM5 9.1l6 3v7.3l-6-3zm8 10.3v-7.3l6-3v7.3z"/></svg>'
});
