/** This process's CPU time since it started, in milliseconds (user and system). */
export function cpuSinceStart(): { userMs: number; systemMs: number } {
  const { user, system } = process.cpuUsage();
  return { userMs: user / 1000, systemMs: system / 1000 };
}
