#!/usr/bin/perl
# make-mmdb.pl OUTDIR — writes the tiny country databases the tests use:
#   OUTDIR/geo-maxmind.mmdb     GeoIP2 schema   {country => {iso_code => CC}}
#   OUTDIR/geo-iplocation.mmdb  ip-location-db  {country_code => CC}
#   OUTDIR/geo-broken.mmdb      junk bytes, not a database
# Both real databases are IPv6 trees in which IPv4 addresses are found too
# (plain IPv4, ::ffff:a.b.c.d and 6to4), holding exactly the table below.
# Needs Debian's libmaxmind-db-writer-perl.
use strict;
use warnings;

use File::Path qw(make_path);
use MaxMind::DB::Writer::Tree;

my @table = (
    [ '81.2.69.0/24',   'GB' ],
    [ '216.160.83.0/24', 'US' ],
    [ '89.160.20.0/24', 'SE' ],
    [ '2a02:cf40::/32', 'NO' ],
    [ '2001:218::/32',  'JP' ],
);

my $dir = shift @ARGV or die "usage: $0 OUTDIR\n";
make_path($dir);

# Writes PATH with one record per network of @table, made by RECORD(CC).
sub write_db {
    my ($path, $type, $types, $record) = @_;
    my $tree = MaxMind::DB::Writer::Tree->new(
        ip_version               => 6,
        record_size              => 24,
        database_type            => $type,
        languages                => ['en'],
        description              => { en => "dwell test database ($type)" },
        map_key_type_callback    => sub { $types->{ $_[0] } },
        alias_ipv6_to_ipv4       => 1,
        remove_reserved_networks => 0,
    );
    $tree->insert_network($_->[0], $record->($_->[1])) for @table;
    my $tmp = "$path.tmp";
    open(my $fh, '>:raw', $tmp) or die "$tmp: $!\n";
    $tree->write_tree($fh);
    close($fh) or die "$tmp: $!\n";
    rename($tmp, $path) or die "$path: $!\n";
}

write_db("$dir/geo-maxmind.mmdb", 'GeoIP2-Country',
         { country => 'map', iso_code => 'utf8_string' },
         sub { { country => { iso_code => $_[0] } } });

write_db("$dir/geo-iplocation.mmdb", 'ip-location-db-country',
         { country_code => 'utf8_string' },
         sub { { country_code => $_[0] } });

my $broken = "$dir/geo-broken.mmdb";
open(my $fh, '>:raw', $broken) or die "$broken: $!\n";
print $fh "this is not a MaxMind database\n", "\x00\xff" x 64;
close($fh) or die "$broken: $!\n";
