// Imported first by the CLI, before anything touches libuv: chDB runs each query and insert on a
// libuv worker thread (exports hold one for their whole duration), and the default pool of 4
// would queue dashboard queries behind them (ENGINE-NOTES trap 4).
process.env.UV_THREADPOOL_SIZE ??= '16';
export {};
