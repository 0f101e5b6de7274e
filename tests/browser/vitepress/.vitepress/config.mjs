// The VitePress help center of the browser suite (tests/browser/vitepress.mjs
// builds it; README.md, "The VitePress help center"). Plain data, no imports,
// so the build needs nothing but the vitepress package.
//
// The snippet's origin is only known when a scenario runs: the build writes
// the placeholder below and the fixture's static server puts the scenario's
// dwell origin in its place in every HTML file it serves.
export default {
  title: 'Acme Help',
  description: 'A small VitePress help center the dwell snippet is tested on.',
  cleanUrls: true,
  head: [
    ['script', { defer: '', src: '__DWELL_ORIGIN__/dwell.js', 'data-site': 't.test' }],
  ],
  themeConfig: {
    search: undefined,
    sidebar: [
      {
        text: 'Guides',
        items: [
          { text: 'Welcome', link: '/' },
          { text: 'Set up webhooks', link: '/guide/webhooks' },
          { text: 'Reset your password', link: '/guide/reset-password' },
          { text: 'Download invoices', link: '/guide/invoices' },
        ],
      },
    ],
  },
};
