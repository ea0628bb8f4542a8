// The daily report per channel: its place in the console. The service has no report API yet (GET /reports/daily); until it has,
// this page says so and shows nothing else. When it exists: a table per channel and a chart of the days (chart.js).
import { h } from '../dom.js';

export function render(main, _route, ctx) {
  main.append(h('h1', {}, 'Daily report'));
  if (!ctx.config.reportsAvailable) {
    main.append(h('div.placeholder', { id: 'reports-unavailable' },
      h('p', {}, h('strong', {}, 'Not available yet.'), ' The service does not serve the daily report per channel yet (its API, GET /reports/daily, is still to come).'),
      h('p', {}, 'Once it does, this page shows each channel\'s issued, redeemed, refunded, blocked and locked counts and amounts per day, as a table and a chart.')));
  }
}
