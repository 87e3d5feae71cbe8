// Makes TorchSharp's native bridge load on Linux distributions whose libstdc++ predates GCC 13
// (Debian 12, Ubuntu 22.04). libLibTorchSharp.so asks for GLIBCXX_3.4.32 for one symbol,
// _ZSt21ios_base_library_initv, which GCC 13's <iostream> references but nothing calls. Marking that
// single version requirement weak (VER_FLG_WEAK in its Vernaux entry) lets the dynamic loader accept
// the library; every other requirement is left alone. See DEVELOPERS.md.
//
// This file is compiled twice: by MSBuild's RoslynCodeTaskFactory (build/Mtkd.TorchSharp.targets), where
// the task class below is included, and into Mtkd.Training (MTKD_WITHOUT_MSBUILD), whose TorchRuntime patches a
// cached copy at run time where no MSBuild ran; there its types are internal.
// It targets netstandard2.0 (the task factory's reference set), so it avoids newer APIs.
#nullable enable
using System;
using System.Collections.Generic;
using System.IO;
using System.Text;

namespace Mtkd.Build
{
    /// <summary>One version requirement (a Vernaux entry) of an ELF shared object.</summary>
#if MTKD_WITHOUT_MSBUILD
    internal
#else
    public
#endif
    sealed class ElfVersionRequirement
    {
        public string File = "";
        public string Version = "";
        public ushort Flags;
        public ushort Index;
        /// <summary>Byte offset of vna_flags in the file.</summary>
        public long FlagsOffset;
        public bool IsWeak => (Flags & ElfSymbolVersions.VerFlagWeak) != 0;
    }

    /// <summary>Reads and edits the GNU symbol-versioning sections of a little-endian ELF64 file.</summary>
#if MTKD_WITHOUT_MSBUILD
    internal
#else
    public
#endif
    static class ElfSymbolVersions
    {
        public const ushort VerFlagWeak = 0x2;
        const uint ShtDynsym = 11;
        const uint ShtGnuVerdef = 0x6ffffffd;
        const uint ShtGnuVerneed = 0x6ffffffe;
        const uint ShtGnuVersym = 0x6fffffff;

        struct Section
        {
            public uint Type;
            public long Offset;
            public long Size;
            public int Link;
            public int Info;
        }

        public static List<ElfVersionRequirement> ReadRequirements(byte[] elf, string source)
        {
            var sections = ReadSections(elf, source);
            var result = new List<ElfVersionRequirement>();
            foreach (var s in sections)
            {
                if (s.Type != ShtGnuVerneed) continue;
                var strtab = sections[s.Link];
                long entry = s.Offset;
                for (int i = 0; i < s.Info; i++)
                {
                    ushort count = U16(elf, entry + 2);
                    string file = Str(elf, strtab, U32(elf, entry + 4));
                    long aux = entry + U32(elf, entry + 8);
                    for (int j = 0; j < count; j++)
                    {
                        result.Add(new ElfVersionRequirement
                        {
                            File = file,
                            Flags = U16(elf, aux + 4),
                            Index = U16(elf, aux + 6),
                            Version = Str(elf, strtab, U32(elf, aux + 8)),
                            FlagsOffset = aux + 4,
                        });
                        aux += U32(elf, aux + 12);
                    }
                    uint next = U32(elf, entry + 12);
                    if (next == 0) break;
                    entry += next;
                }
            }
            return result;
        }

        /// <summary>Whether the file defines (exports) the given symbol version, as libstdc++ does for GLIBCXX_x.</summary>
        public static bool DefinesVersion(byte[] elf, string source, string version)
        {
            var sections = ReadSections(elf, source);
            foreach (var s in sections)
            {
                if (s.Type != ShtGnuVerdef) continue;
                var strtab = sections[s.Link];
                long entry = s.Offset;
                for (int i = 0; i < s.Info; i++)
                {
                    long aux = entry + U32(elf, entry + 12);
                    if (Str(elf, strtab, U32(elf, aux)) == version) return true;
                    uint next = U32(elf, entry + 16);
                    if (next == 0) break;
                    entry += next;
                }
            }
            return false;
        }

        /// <summary>Names of the dynamic symbols bound to the given version index.</summary>
        public static List<string> SymbolsUsingVersion(byte[] elf, string source, ushort versionIndex)
        {
            var sections = ReadSections(elf, source);
            Section? dynsym = null, versym = null;
            foreach (var s in sections)
            {
                if (s.Type == ShtDynsym) dynsym = s;
                if (s.Type == ShtGnuVersym) versym = s;
            }
            var names = new List<string>();
            if (dynsym == null || versym == null) return names;
            var strtab = sections[dynsym.Value.Link];
            long count = dynsym.Value.Size / 24;
            for (long i = 0; i < count; i++)
            {
                ushort ver = (ushort)(U16(elf, versym.Value.Offset + 2 * i) & 0x7fff);
                if (ver == versionIndex)
                    names.Add(Str(elf, strtab, U32(elf, dynsym.Value.Offset + 24 * i)));
            }
            return names;
        }

        static List<Section> ReadSections(byte[] elf, string source)
        {
            if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
                throw new InvalidDataException($"{source}: not an ELF file.");
            if (elf[4] != 2 || elf[5] != 1)
                throw new InvalidDataException($"{source}: expected a little-endian 64-bit ELF file.");
            long shoff = (long)U64(elf, 0x28);
            int shentsize = U16(elf, 0x3A), shnum = U16(elf, 0x3C);
            if (shoff <= 0 || shentsize < 64 || shoff + (long)shentsize * shnum > elf.Length)
                throw new InvalidDataException($"{source}: section header table is missing or truncated.");
            var list = new List<Section>(shnum);
            for (int i = 0; i < shnum; i++)
            {
                long h = shoff + (long)i * shentsize;
                list.Add(new Section
                {
                    Type = U32(elf, h + 4),
                    Offset = (long)U64(elf, h + 24),
                    Size = (long)U64(elf, h + 32),
                    Link = (int)U32(elf, h + 40),
                    Info = (int)U32(elf, h + 44),
                });
            }
            return list;
        }

        static string Str(byte[] elf, Section strtab, uint offset)
        {
            long start = strtab.Offset + offset, end = start;
            while (end < elf.Length && elf[end] != 0) end++;
            return Encoding.ASCII.GetString(elf, (int)start, (int)(end - start));
        }

        static ushort U16(byte[] b, long o) => (ushort)(b[o] | b[o + 1] << 8);
        static uint U32(byte[] b, long o) => (uint)(b[o] | b[o + 1] << 8 | b[o + 2] << 16 | b[o + 3] << 24);
        static ulong U64(byte[] b, long o) => U32(b, o) | (ulong)U32(b, o + 4) << 32;
    }

    /// <summary>The known-benign GLIBCXX_3.4.32 requirement of libLibTorchSharp.so and how to relax it.</summary>
#if MTKD_WITHOUT_MSBUILD
    internal
#else
    public
#endif
    static class LibTorchSharpCompat
    {
        public const string Version = "GLIBCXX_3.4.32";
        public const string OnlySymbol = "_ZSt21ios_base_library_initv";

        /// <summary>Path of the libstdc++ this process uses (the .NET runtime links it), or null if none is found.</summary>
        public static string? FindHostLibStdCxx()
        {
            try
            {
                foreach (var line in File.ReadAllLines("/proc/self/maps"))
                {
                    int slash = line.IndexOf('/');
                    if (slash >= 0 && line.IndexOf("libstdc++.so", slash, StringComparison.Ordinal) >= 0)
                        return line.Substring(slash).Trim();
                }
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
            foreach (var dir in new[] { "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib" })
            {
                var candidate = Path.Combine(dir, "libstdc++.so.6");
                if (File.Exists(candidate)) return candidate;
            }
            return null;
        }

        /// <summary>True when the host's libstdc++ lacks GLIBCXX_3.4.32, so the patch is needed here.</summary>
        public static bool HostNeedsPatch(out string hostLibrary)
        {
            hostLibrary = FindHostLibStdCxx() ?? "";
            if (hostLibrary.Length == 0) return false;
            return !ElfSymbolVersions.DefinesVersion(File.ReadAllBytes(hostLibrary), hostLibrary, Version);
        }

        /// <summary>
        /// Marks the GLIBCXX_3.4.32 requirement weak in <paramref name="path"/>, writing a new file and renaming it
        /// over the old one (so a hard link into the NuGet cache is never written through). Returns a sentence
        /// describing what was done, or null when nothing needed doing. Refuses (throws) when that version binds
        /// any symbol other than the known-benign one, since weakening it could then hide a real missing function.
        /// </summary>
        public static string? WeakenRequirement(string path)
        {
            var elf = File.ReadAllBytes(path);
            ElfVersionRequirement? target = null;
            foreach (var r in ElfSymbolVersions.ReadRequirements(elf, path))
                if (r.Version == Version && r.File.StartsWith("libstdc++", StringComparison.Ordinal)) target = r;
            if (target == null || target.IsWeak) return null;

            var users = ElfSymbolVersions.SymbolsUsingVersion(elf, path, target.Index);
            foreach (var name in users)
                if (name != OnlySymbol)
                    throw new InvalidDataException(
                        $"{path}: {Version} is needed by {string.Join(", ", users)}, not only {OnlySymbol}; " +
                        "weakening it is not safe. Upgrade libstdc++ (GCC 13 or newer) on this machine instead.");

            ushort flags = (ushort)(target.Flags | ElfSymbolVersions.VerFlagWeak);
            elf[target.FlagsOffset] = (byte)flags;
            elf[target.FlagsOffset + 1] = (byte)(flags >> 8);

            var lastWrite = File.GetLastWriteTimeUtc(path);
            var temp = path + ".mtkd-tmp";
            File.WriteAllBytes(temp, elf);
            // Keep the original timestamp so MSBuild's incremental copy sees the file as unchanged and keeps our copy.
            File.SetLastWriteTimeUtc(temp, lastWrite);
            File.Replace(temp, path, null);
            return $"marked {Version} weak in {path}";
        }
    }

#if !MTKD_WITHOUT_MSBUILD
    /// <summary>MSBuild task: applies <see cref="LibTorchSharpCompat.WeakenRequirement"/> to build or publish output.</summary>
    public sealed class WeakenLibTorchSharpGlibcxx : Microsoft.Build.Utilities.Task
    {
        [Microsoft.Build.Framework.Required]
        public Microsoft.Build.Framework.ITaskItem[] Files { get; set; } = Array.Empty<Microsoft.Build.Framework.ITaskItem>();

        public override bool Execute()
        {
            if (!LibTorchSharpCompat.HostNeedsPatch(out var host))
            {
                Log.LogMessage(Microsoft.Build.Framework.MessageImportance.Low,
                    $"Mtkd: host libstdc++ ({(host.Length == 0 ? "not found" : host)}) needs no TorchSharp patch.");
                return true;
            }
            foreach (var item in Files)
            {
                var done = LibTorchSharpCompat.WeakenRequirement(item.ItemSpec);
                if (done != null)
                    Log.LogMessage(Microsoft.Build.Framework.MessageImportance.High,
                        $"Mtkd: {host} lacks {LibTorchSharpCompat.Version}; {done} so TorchSharp loads (see DEVELOPERS.md).");
            }
            return !Log.HasLoggedErrors;
        }
    }
#endif
}
