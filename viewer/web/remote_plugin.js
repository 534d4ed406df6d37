// remote_plugin.js: the flame-chart-js track of a large trace's thread
// (main.js uses it when the server holds the trace, viewer/README.md).
// Its items come merged to the pixel by the server; nestLevels (model.js)
// makes each node a one-node cluster, in rows by level: a frame takes those
// in view by binary search, where flame-chart-js would cluster every node
// again on each answer and walk them all on each frame.
import { FlameChartPlugin } from 'flame-chart-js';
import { rowInView } from './model.js';

// The data of a remote trace's tracks is what the server sent for the
// view; its time range is the whole trace's, not that data's. Module-wide:
// flame-chart-js asks for it from the plugin's constructor.
let remoteSpan = 1;

// The whole trace's duration in microseconds (> 0), before the plugins are made.
export function setRemoteSpan(us) {
  remoteSpan = us;
}

export class RemoteFlamePlugin extends FlameChartPlugin {
  calcMinMax() {
    this.min = 0;
    this.max = remoteSpan;
  }
  // rows: nestLevels' rows of the current answer.
  setRows(rows) {
    this.rows = rows;
    this.initData();
  }
  initData() {
    this.metaClusterizedFlatTree = [];
    this.initialClusterizedFlatTree = [];
    this.reclusterizeClusteredFlatTree();
  }
  reclusterizeClusteredFlatTree() {
    const e = this.renderEngine;
    const out = [];
    if (e && this.rows) {
      const t0 = e.positionX;
      const t1 = t0 + e.getRealView();
      for (const row of this.rows) rowInView(row, t0, t1, out);
    }
    this.actualClusterizedFlatTree = out;
  }
}
