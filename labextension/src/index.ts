import {
  ILabShell,
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette, Notification } from '@jupyterlab/apputils';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { IStatusBar } from '@jupyterlab/statusbar';

import { MatihClient } from './api';
import { experimentsIcon, modelsIcon } from './icons';
import { ExperimentsModel, ModelsModel, SessionModel } from './model';
import { ExperimentsPanel } from './widgets/ExperimentsPanel';
import { ModelsPanel, TUTORIAL } from './widgets/ModelsPanel';
import { TenantStatus } from './widgets/StatusItem';

const PLUGIN_ID = 'matih-jupyter-labextension:plugin';
/** Seconds between checks for changes (the settings schema's default). */
const DEFAULT_REFRESH = 1.5;

/** Command ids. */
export namespace CommandIDs {
  export const openExperiments = 'matih:open-experiments';
  export const openModels = 'matih:open-models';
  export const refresh = 'matih:refresh';
  export const openRun = 'matih:open-run';
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description:
    'Experiments, run comparison and model promotion for the tenant, in the sidebar.',
  autoStart: true,
  optional: [
    ILabShell,
    ILayoutRestorer,
    ICommandPalette,
    ISettingRegistry,
    IStatusBar
  ],
  activate: (
    app: JupyterFrontEnd,
    labShell: ILabShell | null,
    restorer: ILayoutRestorer | null,
    palette: ICommandPalette | null,
    settingRegistry: ISettingRegistry | null,
    statusBar: IStatusBar | null
  ) => {
    const session = new SessionModel(
      new MatihClient(app.serviceManager.serverSettings)
    );
    const experiments = new ExperimentsModel(session);
    const models = new ModelsModel(session);

    // One notification per distinct message at a time: auto-refresh must not pile them up.
    const shown = new Map<string, string>();
    session.error.connect((_, message) => {
      const prev = shown.get(message);
      if (prev && Notification.manager.has(prev)) {
        return;
      }
      shown.set(message, Notification.error(message, { autoClose: 8000 }));
    });

    session.tenantChanged.connect(() => {
      void experiments.reset();
      void models.reset();
    });

    const experimentsPanel = new ExperimentsPanel(experiments);
    experimentsPanel.title.icon = experimentsIcon;
    experimentsPanel.title.caption = 'Experiments (matih)';
    const openRun = (runId: string) =>
      void app.commands.execute(CommandIDs.openRun, { runId });
    const modelsPanel = new ModelsPanel(models, openRun);
    modelsPanel.title.icon = modelsIcon;
    modelsPanel.title.caption = 'Models (matih)';

    app.shell.add(experimentsPanel, 'left', { rank: 600 });
    app.shell.add(modelsPanel, 'left', { rank: 601 });
    if (restorer) {
      restorer.add(experimentsPanel, experimentsPanel.id);
      restorer.add(modelsPanel, modelsPanel.id);
    }

    // Load lazily: nothing is fetched until a panel is first shown (or a command asks).
    let loaded = false;
    const loadAll = async () => {
      loaded = true;
      await Promise.all([
        session.refreshWhoami(),
        experiments.refresh(),
        models.refresh(),
        findTutorial()
      ]);
    };
    // The empty Models panel links the tutorial notebook when this Jupyter serves it.
    const findTutorial = async () => {
      try {
        await app.serviceManager.contents.get(TUTORIAL, { content: false });
      } catch {
        return;
      }
      modelsPanel.tutorial = () =>
        void app.commands.execute('docmanager:open', { path: TUTORIAL });
    };
    const ensureLoaded = () => {
      if (!loaded) {
        void loadAll();
      }
    };
    const loadIfShown = () => {
      if (experimentsPanel.isVisible || modelsPanel.isVisible) {
        ensureLoaded();
      }
    };
    void app.restored.then(labShell ? loadIfShown : ensureLoaded);
    if (labShell) {
      labShell.layoutModified.connect(loadIfShown);
    }
    // The status bar needs the tenant at once; whoami is cheap (no MLflow call).
    void session.refreshWhoami();

    app.commands.addCommand(CommandIDs.openExperiments, {
      label: 'Open Experiments Panel',
      caption: 'Show the tenant’s experiments and runs',
      icon: experimentsIcon,
      execute: () => {
        app.shell.activateById(experimentsPanel.id);
        ensureLoaded();
      }
    });
    app.commands.addCommand(CommandIDs.openModels, {
      label: 'Open Models Panel',
      caption: 'Show the tenant’s registered models',
      icon: modelsIcon,
      execute: () => {
        app.shell.activateById(modelsPanel.id);
        ensureLoaded();
      }
    });
    app.commands.addCommand(CommandIDs.refresh, {
      label: 'Refresh Experiments and Models',
      caption: 'Reload experiments, runs and models from the server',
      execute: () => loadAll()
    });
    app.commands.addCommand(CommandIDs.openRun, {
      label: 'Open Run in Experiments Panel',
      execute: async args => {
        app.shell.activateById(experimentsPanel.id);
        if (!loaded) {
          await loadAll();
        }
        await experiments.revealRun(String(args.runId));
      }
    });
    if (palette) {
      const category = 'Experiments (matih)';
      [
        CommandIDs.openExperiments,
        CommandIDs.openModels,
        CommandIDs.refresh
      ].forEach(command => palette.addItem({ command, category }));
    }

    if (statusBar) {
      const item = new TenantStatus(
        session,
        () => void app.commands.execute(CommandIDs.openExperiments)
      );
      statusBar.registerStatusItem('matih-jupyter:tenant', {
        item,
        align: 'left',
        rank: 10,
        isActive: () => true
      });
    }

    if (settingRegistry) {
      settingRegistry
        .load(PLUGIN_ID)
        .then(settings => {
          const apply = () => {
            const value = settings.get('refreshInterval').composite;
            experiments.refreshInterval =
              typeof value === 'number' ? value : DEFAULT_REFRESH;
          };
          apply();
          settings.changed.connect(apply);
        })
        .catch(reason => {
          console.error('matih: failed to load settings', reason);
        });
    }
  }
};

export default plugin;
