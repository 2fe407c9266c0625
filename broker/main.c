#include <stdio.h>
int main(void) { fputs("eddy-broker: not built yet\n", stderr); return 1; }
