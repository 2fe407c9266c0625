#include <stdio.h>
int main(void) { fputs("eddy-frontend: not built yet\n", stderr); return 1; }
