/*
 * A stand-in bcryptprimitives.dll for running bitscope.exe under wine 8 (Debian 12's wine64).
 * TEST-ONLY: never shipped beside a real bitscope.exe; real Windows (8 and later) has its own.
 *
 * Why it exists: Rust's standard library (1.78 on) draws its random bytes (the seed of every
 * HashMap) from ProcessPrng in bcryptprimitives.dll, and imports it statically. Wine 8 has no
 * bcryptprimitives.dll (wine 9 added it), so bitscope.exe would not even load ("Library
 * bcryptprimitives.dll ... not found", exit status 53). This DLL exports that one function and
 * forwards it to SystemFunction036 (RtlGenRandom) in wine's advapi32, which reads the host's
 * random source.
 *
 * tests/windows.rs builds it with mingw-w64 and puts it next to the .exe:
 *   x86_64-w64-mingw32-gcc -shared -O2 -o bcryptprimitives.dll bcryptprimitives.c -ladvapi32
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
    /* RtlGenRandom takes a ULONG length: ask for at most 1 GiB at a time. */
    while (length > 0) {
        ULONG n = length > 0x40000000 ? 0x40000000 : (ULONG)length;
        if (!SystemFunction036(data, n))
            return FALSE;
        data += n;
        length -= n;
    }
    return TRUE;
}
