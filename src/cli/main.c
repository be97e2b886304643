/*
 * modelwatch command-line entry point: dispatches git-style subcommands.
 * Exit codes (DESIGN.md): 0 ok, 1 error, 2 usage, 3 a check failed.
 */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
    if (argc > 1 && (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version"))) {
        printf("modelwatch %s\n", MW_VERSION);
        return 0;
    }
    fprintf(stderr, "usage: modelwatch <command> [options]\n");
    return 2;
}
