import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';

const plugin: JupyterFrontEndPlugin<void> = {
  id: 'matih-jupyter-labextension:plugin',
  description: 'matih_jupyter sidebar',
  autoStart: true,
  activate: (app: JupyterFrontEnd) => {
    console.log('matih-jupyter-labextension activated');
  }
};

export default plugin;
