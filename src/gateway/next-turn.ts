// One turn of the event loop (docs/ARCHITECTURE.md §3 "Overlapped phases"). Work started after it
// runs once what the current turn handed to the runtime has gone first: a subrequest is written
// out, a response is on its way. On one workerd thread that order is the difference between work
// that overlaps a wait and work that delays it.
export const nextTurn = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));
