// exit_one: exits with status 1, and does nothing else. A failing program
// built like the project's own, so instrumented under --config=tsan, where
// the TSan-built preload library cannot enter an uninstrumented program such
// as /bin/false (docs/run.md, "Sanitizers").
int main() { return 1; }
