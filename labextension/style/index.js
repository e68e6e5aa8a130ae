import 'uplot/dist/uPlot.min.css';
import './chart.css';
import './base.css';
