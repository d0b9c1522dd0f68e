/* replay.h: a main() that feeds each file named on the command line to LLVMFuzzerTestOneInput, so the
 * corpus can be replayed with gcc and sanitizers where libFuzzer is not available. */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        if (!f) {
            perror(argv[i]);
            return 1;
        }
        static uint8_t buf[1 << 20];
        size_t n = fread(buf, 1, sizeof buf, f);
        fclose(f);
        uint8_t *exact = malloc(n ? n : 1);
        for (size_t k = 0; k < n; k++)
            exact[k] = buf[k];
        LLVMFuzzerTestOneInput(exact, n);
        free(exact);
    }
    printf("replayed %d inputs\n", argc - 1);
    return 0;
}
